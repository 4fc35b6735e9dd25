"""Due dates seen from today: the lights, the days left, and extending a reporting unit's due dates at once.

A light is computed in SQL (`with_lights`), so lists filter by it without reading every row:

- red 红灯 (已逾期): the county owes a report (issued, in progress or returned) and its due date has passed;
- yellow 黄灯 (临近期限): it owes one due today or within the next `DUE_WARNING_DAYS` working days;
- green 绿灯 (正常): it owes one due later, or it has handed its report in (submitted, under review),
  even if late: the report is with the section now, and its dates show when it came;
- none: accepted or cancelled.

"Today" is `today()`, the local date; tests fix it by patching that function or passing `on`.
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone
from django.utils.formats import date_format

from assignments.models import ITEM_ORDER, Assignment, State
from permissions.checks import allowed_in_state, can

from . import actions
from .calendar import WorkingCalendar


class Light(models.TextChoices):
    GREEN = "green", "绿灯"
    YELLOW = "yellow", "黄灯"
    RED = "red", "红灯"


MEANINGS = {Light.GREEN: "正常", Light.YELLOW: "临近期限", Light.RED: "已逾期"}
OWED = (State.ASSIGNED, State.IN_PROGRESS, State.RETURNED)  # the county owes a report
HANDED_IN = (State.SUBMITTED, State.UNDER_REVIEW)


def today():
    return timezone.localdate()


def warning_until(on=None, working=None):
    """The last due date that is yellow on `on`: the `DUE_WARNING_DAYS`-th working day after it."""
    working = working or WorkingCalendar()
    return working.add_working_days(on or today(), settings.DUE_WARNING_DAYS)


def with_lights(queryset, *, on=None):
    """`queryset` with `light` ("red", "yellow", "green", or None for accepted and cancelled)."""
    on = on or today()
    until = warning_until(on)
    return queryset.annotate(
        light=Case(
            When(state__in=OWED, due__lt=on, then=Value(Light.RED.value)),
            When(state__in=OWED, due__lte=until, then=Value(Light.YELLOW.value)),
            When(state__in=OWED + HANDED_IN, then=Value(Light.GREEN.value)),
            default=Value(None),
            output_field=CharField(),
        )
    )


def describe(assignments, *, on=None):
    """Set on each assignment (annotated by `with_lights`) `light_label` (绿灯 正常…) and `days_left`, a
    phrase for a report still owed ("还剩 3 个工作日", "今天到期", "逾期 2 天"), else ""."""
    on = on or today()
    working, phrases = WorkingCalendar(), {}
    for assignment in assignments:
        light = getattr(assignment, "light", None)
        assignment.light_label = f"{Light(light).label} {MEANINGS[light]}" if light else ""
        if assignment.state not in OWED:
            assignment.days_left = ""
            continue
        due = assignment.due
        if due not in phrases:
            if due < on:
                phrases[due] = f"逾期 {(on - due).days} 天"
            elif due == on:
                phrases[due] = "今天到期"
            else:
                phrases[due] = f"还剩 {working.working_days_between(on, due)} 个工作日"
        assignment.days_left = phrases[due]
    return assignments


def extend_unit(round_, unit, *, by, due, reason, measure=None):
    """Extend, to `due`, every open assignment of the reporting `unit` (a county bureau, or a section for its
    annual report) in `round_` (of `measure`, if given) that `by` may extend and whose due date is earlier,
    each by the `extend` action with its own event, all in one transaction: one refusal changes nothing.
    Returns the assignments extended."""
    rows = Assignment.objects.filter(round=round_, unit=unit)
    if measure is not None:
        rows = rows.filter(item__measure=measure)
    mine = [row for row in rows.order_by(*ITEM_ORDER) if can(by, "extend", row)]
    if not mine:
        raise actions.NotAllowed(f"你无权为{unit.name}延期:只有牵头科室(年度工作报告为牵头汇总科室)的科长可以延期")
    extended = []
    with transaction.atomic():
        for row in mine:
            if row.due < due and allowed_in_state("extend", row):
                extended.append(actions.extend(row, by=by, version=row.version, due=due, reason=reason))
        if not extended:
            raise actions.Invalid(f"{unit.name}没有期限早于{date_format(due)}且可由你延期的在办事项", field="due")
    return extended
