"""Opening a reporting round: the assignments of a year, issued in bulk with their processes and events.

`open_round` issues every (work item active that year × county it is for: every county its plan names, or
the counties the item is scoped to) of the chosen measures, and each section's annual report on the
measures it is responsible for; `issue` one item to one county.
Both write the rows viewflow's one-by-one start would write (see `workflows.tasks`), in a few bulk
statements, and the first event of each assignment's history.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from viewflow.workflow.models import Process
from viewflow.workflow.status import PROCESS

from assignments import selectors
from assignments.models import Assignment, ItemSection, Measure, MeasureSection, Round, State, Unit, WorkItem
from permissions import roles
from permissions.checks import can_issue, can_issue_reports

from . import bulk, flows, history, notifications, tasks
from .actions import Conflict, Invalid, NotAllowed, acting_unit
from .calendar import WorkingCalendar
from .models import Event

logger = logging.getLogger("duban.events")


def open_round(year, *, by=None, plan=None, measures=None, reports=None):
    """Open the reporting round of `year` of `plan` (None: the only plan loaded; refused when there are
    several): one assignment per (work item active that year × county the plan names, or of the item's
    scope), and with
    `reports` one annual report per section the plan names, other than its coordinator, that is
    responsible for one of its measures, reviewed by the coordinator (`section_reports`).

    `by` is the section chief who issues (None: the system, from the command line); a chief opens the
    measures their section leads, the coordinating section's chief any. Without `measures`, every
    measure `by` may issue is opened; naming one they may not is refused. Assignments that exist are
    left alone, so opening twice creates nothing new. The reports come with the whole round (`reports`
    None: when no `measures` are named) and only from the system or the coordinator's chief: another
    chief opening the whole round issues only their measures, and asking for the reports is refused.
    Returns (round, number of assignments created).
    """
    if plan is None:
        try:
            plan = selectors.the_plan()
        except LookupError as error:
            raise Invalid(str(error)) from None
    if year not in plan.years:
        raise Invalid(f"{year} 年不在计划年度({plan.first_year}–{plan.last_year} 年)之内")
    chosen = Measure.objects.filter(plan=plan).prefetch_related("measure_sections")
    if measures is not None:
        chosen = chosen.filter(pk__in=[getattr(measure, "pk", measure) for measure in measures])
    chosen = list(chosen)
    if by is not None:
        refused = [measure for measure in chosen if not can_issue(by, measure)]
        if measures is None:
            chosen = [measure for measure in chosen if measure not in refused]
        elif refused:
            numbers = "、".join(str(measure.number) for measure in refused)
            raise NotAllowed(f"你无权下达第 {numbers} 项重点任务(须由牵头科室或本计划牵头汇总科室的科长下达)")
    if reports is None:
        reports = measures is None and (by is None or can_issue_reports(by, plan))
    elif reports and by is not None and not can_issue_reports(by, plan):
        raise NotAllowed("各科室的年度工作报告须由牵头汇总科室的科长下达")
    if not chosen and not reports:
        if by is None:
            raise Invalid("没有选择要下达的重点任务")
        raise NotAllowed("你没有可下达的重点任务(须由牵头科室或本计划牵头汇总科室的科长下达)")
    unit = acting_unit(by, roles.REVIEW) if by else None
    try:
        with transaction.atomic():
            round_, _ = Round.objects.get_or_create(plan=plan, year=year, defaults={"opened_by": by})
            created = _issue(round_, chosen, by=by, unit=unit)
            if reports:
                created += _issue_reports(round_, by=by, unit=unit)
        if created:
            transaction.on_commit(
                lambda: logger.info("round %s: %s assignments issued by %s", year, created, by or "the system")
            )
    except IntegrityError:  # someone opened the same assignments at the same moment
        raise Conflict(f"{year} 年度正由他人同时下达,请稍后刷新查看") from None
    return round_, created


def issue(round_, item, county, *, by=None):
    """Issue one assignment of `item` to `county` in an open round (as `open_round` does for many); a county
    outside the item's scope is refused."""
    if by is not None and not can_issue(by, item.measure):
        raise NotAllowed(f"你无权下达第 {item.measure.number} 项重点任务(须由牵头科室或本计划牵头汇总科室的科长下达)")
    if not item.is_active_in(round_.year):
        raise Invalid(f"工作事项 {item.code} 在 {round_.year} 年不需报送")
    if not item.is_for(county):
        raise Invalid(
            f"工作事项 {item.code} 只向{'、'.join(unit.name for unit in item.scope())}下达,不向{county.name}下达"
        )
    unit = acting_unit(by, roles.REVIEW) if by else None
    try:
        with transaction.atomic():
            (row,) = _create(round_, [(item, county)], _lead_sections([item]), by=by, unit=unit)
    except IntegrityError:
        raise Conflict(f"{round_.year} 年度已向{county.name}下达 {item.code}") from None
    return Assignment(**row)


def _issue(round_, measures, *, by, unit):
    items = list(
        WorkItem.objects.filter(measure__in=measures, first_year__lte=round_.year, last_year__gte=round_.year)
        .select_related("measure")
        .prefetch_related("item_sections", "item_counties")
    )
    counties = list(Unit.objects.counties().filter(plan_units__plan=round_.plan_id))  # the counties its plan names
    existing = set(Assignment.objects.filter(round=round_).values_list("item_id", "unit_id"))
    pairs = [
        (item, county)
        for item in items
        for county in counties
        if (item.pk, county.pk) not in existing and item.is_for(county)  # a scoped item: its counties only
    ]
    if not pairs:
        return 0
    return len(_create(round_, pairs, _lead_sections(items), by=by, unit=unit))


def _issue_reports(round_, *, by, unit):
    coordinator = round_.plan.coordinator_id
    if coordinator is None:  # no section to review them
        return 0
    existing = set(Assignment.objects.filter(round=round_).reports().values_list("unit_id", flat=True))
    pairs = [(None, section) for section in section_reports(round_.plan) if section.pk not in existing]
    if not pairs:
        return 0
    return len(_create(round_, pairs, {None: coordinator}, by=by, unit=unit))


def section_reports(plan):
    """The sections that report to `plan`'s coordinator each year: those the plan names, other than the
    coordinator, responsible for one of its measures or of their rows."""
    responsible = Q(Exists(MeasureSection.objects.filter(measure__plan=plan, unit=OuterRef("pk")))) | Q(
        Exists(ItemSection.objects.filter(item__measure__plan=plan, unit=OuterRef("pk")))
    )
    return list(
        Unit.objects.sections()
        .filter(plan_units__plan=plan)
        .filter(responsible)
        .exclude(pk=plan.coordinator_id)
        .order_by("plan_units__position")
    )


def _create(round_, pairs, leads, *, by, unit):
    """Write the assignments of (item, unit) pairs in bulk (item None: a section's report): processes,
    their tasks, rows and events.

    Five kinds of INSERT (each in as few statements as the database takes), whatever the count: the
    rows viewflow's one-by-one start would write, without its per-process re-reads, savepoints and
    whole-row saves, and without building a model instance per row.
    """
    now = timezone.now()
    process_ids = bulk.insert(
        Process, [{"flow_class": flows.AssignmentFlow, "status": PROCESS.NEW, "created": now}] * len(pairs)
    )
    work_ids = tasks.start([(pk, county.pk) for pk, (_, county) in zip(process_ids, pairs, strict=True)], now)
    rows, events = [], []
    working, dues = WorkingCalendar(), {}  # the report day and the items' own deadlines, each moved once
    for (item, county), process_id, work_id in zip(pairs, process_ids, work_ids, strict=True):
        key = Assignment.make_key(round_, item, county)
        deadline = round_.due_for(item)
        if deadline not in dues:
            dues[deadline] = working.next_working_day(deadline)  # a rest day moves to the next working day
        event = history.next_event(
            key=key,
            count=0,
            last_hash=history.GENESIS,
            action=Event.Action.ISSUE,
            from_state="",
            to_state=State.ASSIGNED,
            actor=by,
            unit=unit,
            at=now,
        )
        rows.append(
            {
                "round_id": round_.pk,
                "item_id": item.pk if item else None,
                "unit_id": county.pk,
                "key": key,
                "lead_section_id": leads[item.pk if item else None],
                "due": dues[deadline],
                "process_id": process_id,
                "task_id": work_id,
                "event_count": 1,
                "last_hash": event["hash"],
                "created": now,
                "updated": now,
            }
        )
        events.append(event)
    for row, pk in zip(rows, bulk.insert(Assignment, rows), strict=True):
        row["id"] = pk
    bulk.insert(Event, [{**event, "assignment_id": row["id"]} for row, event in zip(rows, events, strict=True)],
            returning=False)  # fmt: skip
    notifications.for_issue(round_, rows, by=by, now=now)  # one per person of each unit, in this transaction
    return rows


def _lead_sections(items):
    """Each item's lead: the first section of its row (the plan file gives every row one)."""
    return {item.pk: min(item.item_sections.all(), key=lambda link: link.position).unit_id for item in items}
