"""The desks: what a reporting unit owes (本县待办, `/inbox/`) and what waits for a section's review or
opinion (审核台, `/review/`). Each is one query for its rows, grouped in Python, whatever their number."""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import CharField, DateTimeField, F, OuterRef, Q, Subquery, Value

from assignments.models import State, Submission, Unit
from permissions import roles
from permissions.checks import allowed_in_state, can, people_with, visible_to
from permissions.roles import principal

from .deadlines import describe, with_lights
from .models import Event
from .selectors import awaiting_countersign

ROW_JOINS = ("round__plan", "item__measure", "unit", "lead_section", "assignee")


@dataclass
class Group:
    """One group of a desk: a heading, a sentence on what its rows need, and the rows."""

    key: str
    title: str
    need: str
    rows: list = field(default_factory=list)


def works_on(user):
    """Whether `user` works on a reporting unit's assignments (a county's people, a section's for its report)."""
    return bool(principal(user).units_with(roles.WORK))


def reviews(user):
    """Whether `user` belongs to a section (staff or chief), which reviews or countersigns reports."""
    who = principal(user)
    return any(who.units[pk].kind == Unit.Kind.SECTION for pk in who.units_with(roles.VIEW))


def inbox(user):
    """The open assignments of the units `user` works for, in groups by what they need: returned (with the
    latest reason), urged (open urgings, with the latest message), in progress, issued, and handed in (with
    the section now). Each row has its light and days left, and `can_reassign` for a head's reassign."""
    units = principal(user).units_with(roles.WORK)
    rows = (
        with_lights(visible_to(user).filter(unit_id__in=units))
        .exclude(state__in=[State.ACCEPTED, State.CANCELLED])
        .annotate(
            return_reason=Subquery(
                Event.objects.filter(assignment=OuterRef("pk"), action=Event.Action.RETURN)
                .order_by("-sequence")
                .values("comment")[:1]
            ),
            **_latest_open_urging(),
        )
        .select_related(*ROW_JOINS)
        .order_by(
            "due",
            "round__plan_id",
            F("item__measure__number").asc(nulls_last=True),  # a section's report after the items
            F("item__position").asc(nulls_last=True),
            "pk",
        )
    )
    groups = [
        Group("returned", "已退回", "审核科室退回了报送,请按退回理由修改后重新报送。"),
        Group("urged", "被催办", "上级催办了这些事项,请尽快办理并签收催办。"),
        Group("in_progress", "办理中", "正在办理,请在报送期限前报送。"),
        Group("assigned", "已下达", "已下达尚未开始办理,请开始办理。"),
        Group("handed_in", "已报送", "已报送,等待审核科室审核;审核开始前可以撤回报送。"),
    ]
    by_key = {group.key: group for group in groups}
    for row in describe(list(rows)):
        row.can_reassign = allowed_in_state("reassign", row) and can(user, "reassign", row)
        if row.state == State.RETURNED:
            by_key["returned"].rows.append(row)
        elif row.urging is not None:
            by_key["urged"].rows.append(row)
        elif row.state in (State.IN_PROGRESS, State.ASSIGNED):
            by_key[row.state].rows.append(row)
        else:
            by_key["handed_in"].rows.append(row)
    return groups


def _latest_open_urging():
    """`urging` (its message) and `urged_at` of an assignment's latest urging not yet acknowledged; both None
    while the urgings (催办, `workflows.models.Urging`) are not installed, and the group stays empty."""
    try:
        urgings = apps.get_model("workflows", "Urging")
    except LookupError:
        return {"urging": Value(None, output_field=CharField()), "urged_at": Value(None, output_field=DateTimeField())}
    open_urgings = urgings.objects.filter(assignment=OuterRef("pk"), acknowledged_at=None).order_by("-at", "-pk")
    return {
        "urging": Subquery(open_urgings.values("message")[:1]),
        "urged_at": Subquery(open_urgings.values("at")[:1]),
    }


def colleagues(user, groups):
    """{unit id: the people an assignment of that unit may be handed to}, for the units of rows `user` may
    reassign: one query per unit (a head has one), not per row."""
    units = {row.unit_id for group in groups for row in group.rows if row.can_reassign}
    return {unit_id: list(people_with(roles.WORK, unit_id)) for unit_id in units}


def review_desk(user):
    """What waits for the sections of `user`, oldest submission first: reports to review (submitted, or under
    review) where a section of theirs leads, and reports under review to countersign, on which a section of
    theirs co-operates and has given no opinion on the latest submission."""
    who = principal(user)
    sections = {pk for pk in who.units_with(roles.VIEW) if who.units[pk].kind == Unit.Kind.SECTION}
    countersigning = who.units_with(roles.COUNTERSIGN)
    to_review = Q(state__in=[State.SUBMITTED, State.UNDER_REVIEW], lead_section_id__in=sections)
    condition = to_review | awaiting_countersign(countersigning) if countersigning else to_review
    latest = Submission.objects.filter(assignment=OuterRef("pk")).order_by("-number")
    rows = (
        with_lights(visible_to(user).filter(condition))
        .annotate(
            submitted_at=Subquery(latest.values("created")[:1]),
            submission_number=Subquery(latest.values("number")[:1]),
        )
        .select_related(*ROW_JOINS)
        .order_by(F("submitted_at").asc(nulls_last=True), "pk")
    )
    groups = [
        Group("review", "待审核", "本科室牵头的报送,请审核后验收或退回。"),
        Group("countersign", "待会签", "本科室参与配合的报送正在审核,请就最近一次报送提出会签意见。"),
    ]
    for row in describe(list(rows)):
        groups[0 if row.lead_section_id in sections else 1].rows.append(row)
    return groups
