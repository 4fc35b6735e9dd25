"""The auditors' event search and its exports (CSV and xlsx): the history's events filtered by the
assignment's reporting unit, lead section, measure and item, and by the event's actor, action and day.

A search is one queryset with every name a row shows joined in, so a page of 50 events costs what a page
of one does; the exports read the same queryset in chunks.
"""

import csv
import datetime

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from assignments.models import State

from .matrix import end_of
from .models import Event

HEADERS = ["时间", "督办事项", "计划", "年度", "重点任务", "工作事项", "报送单位", "牵头科室", "操作",
           "原状态", "新状态", "操作人账号", "操作人", "操作人单位", "意见或理由", "序号", "摘要"]  # fmt: skip
WIDTHS = [20, 22, 18, 6, 8, 8, 10, 10, 10, 8, 8, 14, 10, 10, 40, 6, 66]
ACTIONS = dict(Event.Action.choices)
STATES = dict(State.choices)


def search(*, plan=None, unit=None, section=None, measure=None, item=None, actor=None, action=None, since=None,
           until=None):  # fmt: skip
    """The events that match, newest first. `unit` and `section` are unit names (the assignment's reporting
    unit, its lead section), `measure` a number (of `plan`, a Plan, when several are loaded), `item` an item
    code, `actor` a username, `since` and `until` days in the site's time zone (both included)."""
    events = Event.objects.select_related(
        "assignment__round__plan", "assignment__item__measure", "assignment__unit", "assignment__lead_section", "actor"
    )
    if plan is not None:
        events = events.filter(assignment__round__plan=plan)
    if unit:
        events = events.filter(assignment__unit__name=unit)
    if section:
        events = events.filter(assignment__lead_section__name=section)
    if measure:
        events = events.filter(assignment__item__measure__number=measure)
    if item:
        events = events.filter(assignment__item__code=item)
    if actor:
        events = events.filter(actor__username=actor)
    if action:
        events = events.filter(action=action)
    if since:
        events = events.filter(at__gte=end_of(since - datetime.timedelta(days=1)))
    if until:
        events = events.filter(at__lt=end_of(until))
    return events.order_by("-at", "-pk")


def row(event):
    """What one event shows, in the order of HEADERS."""
    assignment = event.assignment
    item = assignment.item
    return [
        timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
        assignment.label,
        assignment.round.plan.code,
        assignment.round.year,
        item.measure.number if item else "",
        item.code if item else "",
        assignment.unit.name,
        assignment.lead_section.name,
        ACTIONS.get(event.action, event.action),
        STATES.get(event.from_state, ""),
        STATES.get(event.to_state, ""),
        event.actor.username if event.actor else "",
        event.actor_name,
        event.unit_name,
        event.comment,
        event.sequence,
        event.hash,
    ]


def write_csv(events, out):
    """`events` as CSV into the text stream `out`, with a byte-order mark so that Excel reads it as UTF-8."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for event in events.iterator(chunk_size=2000):
        writer.writerow(row(event))


def write_xlsx(events, out):
    """`events` as a workbook into the binary stream `out`: Chinese headers, the header row frozen."""
    book = Workbook()
    sheet = book.active
    sheet.title = "历史记录"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    sheet.freeze_panes = "A2"
    wrapped = Alignment(wrap_text=True, vertical="top")
    for event in events.iterator(chunk_size=2000):
        sheet.append(row(event))
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a text that begins with "=" is what someone wrote, not a formula
                cell.data_type = "s"
        sheet.cell(row=sheet.max_row, column=HEADERS.index("意见或理由") + 1).alignment = wrapped
    book.save(out)
