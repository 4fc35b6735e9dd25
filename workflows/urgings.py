"""Urgings (催办) seen and made in bulk: the late assignments of a unit or a measure urged at once, the
open urgings a reporting unit has to acknowledge, and those the office waits on.

Each urging is the `urge` action on one assignment (its event in that assignment's history, its row in
`Urging`); acknowledging is the `acknowledge` action. What a person sees follows what they may see of
the assignments (`permissions.checks.visible_to`), so one county never sees another's urgings.
"""

from django.db import transaction
from django.utils import timezone

from assignments.models import Assignment
from permissions.checks import allowed_in_state, can, visible_to

from . import actions, deadlines
from .calendar import WorkingCalendar
from .deadlines import Light, with_lights
from .models import Urging


def urge_late(round_, *, by, message, unit=None, measure=None, on=None):
    """Urge, with one message, every late (red light) assignment of `unit` or of `measure` in `round_`
    that `by` may urge, each by the `urge` action with its own event, all in one transaction: one refusal
    changes nothing. Returns the assignments urged."""
    if (unit is None) == (measure is None):
        raise actions.Invalid("请选择要催办的单位或重点任务(二者选一)", field="unit")
    rows = Assignment.objects.filter(round=round_).select_related("round")
    rows = rows.filter(unit=unit) if unit is not None else rows.filter(item__measure=measure)
    whom = unit.name if unit is not None else f"第 {measure.number} 项重点任务"
    late = with_lights(rows, on=on).filter(light=Light.RED)
    late = list(late.order_by("item__measure__number", "item__position", "unit__position"))
    mine = [row for row in late if can(by, "urge", row)]
    if late and not mine:
        raise actions.NotAllowed(f"你无权催办{whom}的逾期事项:只有牵头科室或牵头汇总科室的科长可以催办")
    urged = []
    with transaction.atomic():
        for row in mine:
            if allowed_in_state("urge", row):
                urged.append(actions.urge(row, by=by, version=row.version, message=message))
        if not urged:
            raise actions.Invalid(f"{round_.year} 年度{whom}没有可由你催办的逾期事项", field="unit")
    return urged


def open_for(user):
    """The open urgings of the assignments `user` may see, newest first, with what the lists show."""
    return (
        Urging.objects.filter(acknowledged_at=None, assignment__in=visible_to(user))
        .select_related("assignment__round", "assignment__item", "assignment__unit", "by", "unit")
        .order_by("-at", "-pk")
    )


def waiting(user, *, on=None):
    """The open urgings `user` may see, oldest first, each with `days` (calendar days since) and
    `working_days` (working days since): how long the office has been waiting."""
    on = on or deadlines.today()
    working = WorkingCalendar()
    rows = list(open_for(user).order_by("at", "pk"))
    for urging in rows:
        day = timezone.localdate(urging.at)
        urging.days = (on - day).days
        urging.working_days = working.working_days_between(day, on) if day < on else 0
    return rows
