"""Reads that join several models, with their joins and prefetches inside."""

from django.db.models import Count, Prefetch, Q
from django.http import Http404

from permissions.roles import WORK, principal

from .models import (
    ITEM_ORDER,
    Assignment,
    Attachment,
    Countersign,
    Duty,
    IndicatorValue,
    ItemCounty,
    ItemSection,
    Measure,
    MeasureGroup,
    MeasureSection,
    Plan,
    Round,
    State,
    Submission,
    Unit,
    WorkItem,
    plain_number,
)

_SECTIONS = Prefetch("measure_sections", queryset=MeasureSection.objects.select_related("unit"))


def plans():
    """Every loaded plan, the latest first."""
    return Plan.objects.order_by("-first_year", "-id")


def latest_plan():
    """The latest loaded plan, or None."""
    return plans().first()


def the_plan(code=None):
    """The plan named by its 文号 `code`, or without one the only plan loaded: for commands and actions,
    which must not guess between plans. Raises LookupError with a message naming the loaded codes."""
    codes = list(plans().values_list("code", flat=True))
    if not codes:
        raise LookupError("尚未载入行动计划")
    if code is None:
        if len(codes) > 1:
            raise LookupError(f"已载入 {len(codes)} 个计划,请用 --plan 指定文号:{'、'.join(codes)}")
        code = codes[0]
    if code not in codes:
        raise LookupError(f"没有文号为“{code}”的计划(已载入:{'、'.join(codes)})")
    return Plan.objects.get(code=code)


def current_plan(code=None):
    """The plan a page or the API shows: the one named by `code`, else the latest; 404 when none is."""
    plan = Plan.objects.filter(code=code).first() if code else latest_plan()
    if plan is None:
        raise Http404(f"没有文号为“{code}”的计划" if code else "尚未载入行动计划")
    return plan


def reporting_units(plan):
    """The units that may report in `plan`'s rounds: the counties it names, then its sections (each reports
    once a year), each in the plan's order."""
    return (
        Unit.objects.filter(plan_units__plan=plan)
        .filter(kind__in=[Unit.Kind.COUNTY, Unit.Kind.SECTION])
        .order_by("kind", "plan_units__position")
    )


_SCOPE = Prefetch("item_counties", queryset=ItemCounty.objects.select_related("unit"))


def plan_overview(plan):
    """The plan's groups, each with its measures, their sections (lead first), item counts and the items
    scoped to named counties (`scoped`)."""
    scoped = WorkItem.objects.filter(item_counties__isnull=False).distinct().prefetch_related(_SCOPE)
    measures = (
        Measure.objects.filter(plan=plan)
        .annotate(item_count=Count("items"))
        .prefetch_related(_SECTIONS, Prefetch("items", queryset=scoped, to_attr="scoped"))
        .order_by("number")
    )
    return MeasureGroup.objects.filter(plan=plan).prefetch_related(Prefetch("measures", queryset=measures))


def measure_detail(plan, number):
    """One measure with its items, each item's sections (lead first), scope (named counties), indicators with
    their targets, and duties of named counties; 404 if absent."""
    items = WorkItem.objects.prefetch_related(
        Prefetch("item_sections", queryset=ItemSection.objects.select_related("unit")),
        _SCOPE,
        "indicators__targets",
        Prefetch("duties", queryset=Duty.objects.prefetch_related("counties")),
    )
    measure = (
        Measure.objects.filter(plan=plan, number=number)
        .select_related("group")
        .prefetch_related(_SECTIONS, Prefetch("items", queryset=items))
        .first()
    )
    if measure is None:
        raise Http404("没有这项重点任务")
    return measure


def open_assignments():
    """Assignments not yet accepted or cancelled: someone still works on, reviews or countersigns them."""
    return Assignment.objects.exclude(state__in=[State.ACCEPTED, State.CANCELLED])


def assignment_list(
    queryset, *, plan=None, year=None, state=None, measure=None, county=None, unit=None, section=None, only=None
):
    """A list of assignments (an already scoped queryset), filtered, with what a row shows joined in.
    `county` names a county bureau, `unit` any reporting unit (a county, or a section for its reports).

    `only` is an extra condition (a Q object), such as the user's to-do list. A measure is named by its
    number, which each plan numbers anew: callers pass `plan` with it when several plans are loaded.
    """
    if only is not None:
        queryset = queryset.filter(only)
    if plan is not None:
        queryset = queryset.filter(round__plan=plan)
    if year:
        queryset = queryset.in_round(year)
    if state:
        queryset = queryset.filter(state=state)
    if measure:
        queryset = queryset.filter(item__measure__number=measure)
    if county:
        queryset = queryset.filter(unit__name=county, unit__kind=Unit.Kind.COUNTY)
    if unit:
        queryset = queryset.filter(unit__name=unit)
    if section:
        queryset = queryset.led_by(section)
    return queryset.select_related("round__plan", "item__measure", "unit", "lead_section").order_by(
        "-round__year", "round__plan_id", *ITEM_ORDER, "unit__position"
    )


def attachments_for(user, attachments):
    """`attachments` without the files `user` may not see yet: until a unit submits its files, they are a
    draft that only its own people see, those who work on its assignments (not the reviewing sections,
    leaders or auditors)."""
    working = principal(user).units_with(WORK)
    return attachments.filter(Q(submission__isnull=False) | Q(assignment__unit_id__in=working))


def assignment_detail(queryset, pk, *, viewer):
    """One assignment (from an already scoped queryset) with its submissions, values, the attachments
    `viewer` may see, countersign opinions, the item's sections, what its round asks (`asks`: one
    `Ask` per indicator, with the target in force) and the county's own duties that year (`duties`);
    404 when it is not in the queryset."""
    submissions = Submission.objects.select_related("author").prefetch_related(
        Prefetch("values", queryset=IndicatorValue.objects.select_related("indicator", "target__indicator")),
        Prefetch("attachments", queryset=Attachment.objects.order_by("created", "pk")),
    )
    assignment = (
        queryset.filter(pk=pk)
        .select_related("round", "item__measure", "unit", "lead_section", "assignee")
        .prefetch_related(
            Prefetch("submissions", queryset=submissions.order_by("-number")),
            Prefetch(
                "attachments",
                queryset=attachments_for(viewer, Attachment.objects.select_related("submission").order_by("pk")),
            ),
            Prefetch("countersigns", queryset=Countersign.objects.select_related("section", "author", "submission")),
            Prefetch("item__item_sections", queryset=ItemSection.objects.select_related("unit")),
            "item__indicators__targets",
        )
        .first()
    )
    if assignment is None:
        raise Http404("没有这个督办事项")
    if assignment.is_report:
        assignment.asks, assignment.duties = [], []
        assignment.covers = list(measures_covered(assignment))
    else:
        assignment.asks = assignment.item.asks(assignment.round.year)
        assignment.duties = list(duties_of(assignment))
        assignment.covers = []
    return assignment


def measures_covered(report):
    """The measures a section's annual report covers: those of its round's plan that name the section,
    on the measure or on one of its rows, in the plan's order, with their sections."""
    section = report.unit_id
    return (
        Measure.objects.filter(plan_id=report.round.plan_id)
        .filter(Q(measure_sections__unit=section) | Q(items__item_sections__unit=section))
        .distinct()
        .prefetch_related(_SECTIONS)
        .order_by("number")
    )


def duties_of(assignment):
    """The parts of the assignment's item that the document asks of its county in its year."""
    year = assignment.round.year
    return Duty.objects.filter(
        item_id=assignment.item_id, counties=assignment.unit_id, first_year__lte=year, last_year__gte=year
    )


def round_summary(queryset, plan):
    """Per year of `plan`: the number of (already scoped) assignments in each state, and in all."""
    counts = {}
    for row in queryset.filter(round__plan=plan).values("round__year", "state").annotate(count=Count("pk")):
        counts.setdefault(row["round__year"], {})[row["state"]] = row["count"]
    rounds = Round.objects.filter(plan=plan).select_related("opened_by").order_by("-year")
    return [
        {
            "round": round_,
            "total": sum(counts.get(round_.year, {}).values()),
            "states": [(label, counts.get(round_.year, {}).get(value, 0)) for value, label in State.choices],
        }
        for round_ in rounds
    ]


def reports(assignment):
    """The assignment's submissions (prefetched by `assignment_detail`, newest first), each with what it
    changed since the one before: [(submission, changes)]."""
    submissions = list(assignment.submissions.all())
    older = [*submissions[1:], None]  # each one's predecessor; the first submission has none
    return [(submission, changes(submission, older[index])) for index, submission in enumerate(submissions)]


def changes(submission, previous):
    """What a resubmission changed since the one before: [{what, before, after}].

    `submission.attachments` are the files that first joined this submission (attachments carry over).
    """
    if previous is None:
        return []
    found = []
    if submission.narrative != previous.narrative:
        found.append(_change("工作情况", previous.narrative, submission.narrative))
    if submission.notable != previous.notable:
        found.append(_change("重要事项", previous.notable or "—", submission.notable or "—"))
    before = {value.indicator_id: value for value in previous.values.all()}
    for value in submission.values.all():
        old = before.get(value.indicator_id)
        if old is None or old.value != value.value:
            found.append(
                _change(value.indicator.subject, plain_number(old.value) if old else "—", plain_number(value.value))
            )
    for attachment in submission.attachments.all():  # the files this submission added
        found.append(_change("附件", "—", f"新增 {attachment.name}"))
    return found


def _change(what, before, after):
    return {"what": what, "before": before, "after": after}
