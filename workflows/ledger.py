"""A round's ledger (台账), in the shape of the document's 任务清单: a row per work item, a column group per
county, so the office no longer compiles it by hand.

`build` reads the round once, with a fixed number of queries whatever its size, into a `Ledger`: the
assignments a user may see (everything for an operator), each with its light, the values of its latest
submission and the dates it was submitted and accepted. `write_xlsx` and `write_csv` only lay that out:

- xlsx: sheet 台账 (a row per work item: 重点任务, 编号, 工作措施, 工作路径及任务指标, 完成时限, 责任单位;
  per county 状态, 指标值, 报送日期, 验收日期 under the county's merged name; the state cell coloured by the
  light), sheet 汇总 (counts by state per measure and per reporting unit, and the late ones), and, when
  there are any, sheet 科室年度报告 (the sections' own reports). Two frozen header rows, wrapped text,
  printed landscape on A3 with the header rows on every page.
- csv: one row per assignment, UTF-8 with a byte-order mark so that Excel reads the Chinese.

A county sees only its own column group: counties whose assignments the user may not see are absent,
not empty.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from assignments.models import Assignment, IndicatorValue, PlanUnit, State, Submission, Unit
from permissions.checks import visible_to

from . import deadlines
from .deadlines import MEANINGS, Light, with_lights
from .models import Event

# The light as a cell's fill: Excel's own "good", "neutral" and "bad" colours, which print legibly.
FILLS = {
    Light.GREEN: PatternFill("solid", fgColor="C6EFCE"),
    Light.YELLOW: PatternFill("solid", fgColor="FFEB9C"),
    Light.RED: PatternFill("solid", fgColor="FFC7CE"),
}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SYMBOLS = {">=": "≥", "<=": "≤", "=": "="}
DATE_FORMAT = "yyyy-mm-dd"

# (header, width) of the item columns and of each county's group.
ITEM_COLUMNS = [
    ("重点任务", 16),
    ("编号", 6),
    ("工作措施", 30),
    ("工作路径及任务指标", 44),
    ("完成时限", 12),
    ("责任单位", 14),
]
COUNTY_COLUMNS = [("状态", 10), ("指标值", 32), ("报送日期", 11), ("验收日期", 11)]
REPORT_COLUMNS = [
    ("报送单位", 12),
    ("状态", 10),
    ("报送期限", 11),
    ("报送日期", 11),
    ("验收日期", 11),
    ("重要事项", 60),
]
CSV_HEADER = [
    "计划",
    "年度",
    "重点任务",
    "事项编号",
    "工作措施",
    "报送单位",
    "单位类别",
    "状态",
    "期限灯",
    "报送期限",
    "报送日期",
    "验收日期",
    "指标值",
    "重要事项",
]


@dataclass
class Entry:
    """One assignment as the ledger shows it."""

    assignment: Assignment
    submitted: datetime.date | None  # the latest submission's date
    accepted: datetime.date | None  # when it was accepted, if it is
    values: list  # one line per indicator value of the latest submission
    notable: str  # the latest submission's 重要事项

    @property
    def light(self):
        return self.assignment.light

    @property
    def state_label(self):
        return self.assignment.get_state_display()

    @property
    def state_text(self):
        """The state, and for a late or nearly late report what its colour means (for a black-and-white print)."""
        if self.light in (Light.RED, Light.YELLOW):
            return f"{self.state_label}({MEANINGS[self.light]})"
        return self.state_label

    @property
    def light_label(self):
        return f"{Light(self.light).label} {MEANINGS[self.light]}" if self.light else ""


@dataclass
class Row:
    """A work item and its assignments, by the unit's id."""

    item: object
    entries: dict = field(default_factory=dict)


@dataclass
class Ledger:
    round: object
    on: datetime.date
    counties: list  # the plan's counties that have a visible assignment, in the plan's order
    rows: list  # a `Row` per work item, in the plan's order
    reports: list  # the sections' annual reports, an `Entry` each

    @property
    def plan(self):
        return self.round.plan

    @property
    def entries(self):
        return [entry for row in self.rows for entry in row.entries.values()] + self.reports

    def by_measure(self):
        """[(label, {state: count}, red)] per measure, then the sections' reports, in the plan's order."""
        groups = {}
        for row in self.rows:
            measure = row.item.measure
            groups.setdefault(f"{measure.number}.{measure.title}", []).extend(row.entries.values())
        if self.reports:
            groups["科室年度报告"] = list(self.reports)
        return [(label, *_count(entries)) for label, entries in groups.items()]

    def by_unit(self):
        """[(unit name, {state: count}, red)] per county, then per section with a report."""
        groups = {county.pk: (county.name, []) for county in self.counties}
        for row in self.rows:
            for unit_id, entry in row.entries.items():
                groups[unit_id][1].append(entry)
        for entry in self.reports:
            groups[entry.assignment.unit_id] = (entry.assignment.unit.name, [entry])
        return [(name, *_count(entries)) for name, entries in groups.values()]

    def late(self):
        """The red ones: owed after their due date, the longest overdue first."""
        red = [entry for entry in self.entries if entry.light == Light.RED]
        return sorted(red, key=lambda entry: (entry.assignment.due, _place(entry.assignment)))


def _count(entries):
    counts = dict.fromkeys(State.values, 0)
    for entry in entries:
        counts[entry.assignment.state] += 1
    return counts, sum(1 for entry in entries if entry.light == Light.RED)


def _place(assignment):
    if assignment.item_id is None:
        return (1, 0, 0, assignment.unit.position)
    return (0, assignment.item.measure.number, assignment.item.position, assignment.unit.position)


# Reading


def build(round_, *, user=None, on=None):
    """The ledger of `round_` (with its plan selected) as `user` may see it (None: everything), lights as
    of `on` (default today). Six queries whatever the round's size, plus those reading `user`'s grants."""
    on = on or deadlines.today()
    rows = Assignment.objects.filter(round=round_)
    if user is not None:
        rows = visible_to(user, rows)
    later = Submission.objects.filter(assignment_id=OuterRef("assignment_id"), number__gt=OuterRef("number"))
    values = IndicatorValue.objects.select_related("indicator", "target__indicator")
    latest = Submission.objects.filter(~Exists(later)).prefetch_related(Prefetch("values", queryset=values))
    acceptances = Event.objects.filter(action=Event.Action.ACCEPT).order_by("sequence")
    rows = (
        with_lights(rows, on=on)  # its working calendar reads the bureau's overrides: one query
        .select_related("item__measure", "unit")  # one query for the assignments
        .prefetch_related(
            Prefetch("submissions", queryset=latest, to_attr="latest"),  # one, and one for their values
            Prefetch("events", queryset=acceptances, to_attr="acceptances"),  # one
        )
    )
    items, reports, seen = {}, [], set()
    for assignment in sorted(rows, key=_place):
        assignment.round = round_  # the title of a section's report names its year
        entry = _entry(assignment)
        if assignment.item_id is None:
            reports.append(entry)
            continue
        items.setdefault(assignment.item_id, Row(assignment.item)).entries[assignment.unit_id] = entry
        seen.add(assignment.unit_id)  # rounds issue to the counties their plan names
    links = PlanUnit.objects.filter(plan_id=round_.plan_id, unit__kind=Unit.Kind.COUNTY).select_related("unit")
    counties = [link.unit for link in links if link.unit_id in seen]  # one query
    return Ledger(round_, on, counties, list(items.values()), reports)


def _entry(assignment):
    submission = assignment.latest[0] if assignment.latest else None
    accepted = None
    if assignment.state == State.ACCEPTED and assignment.acceptances:
        accepted = timezone.localdate(assignment.acceptances[-1].at)
    return Entry(
        assignment,
        submitted=timezone.localdate(submission.created) if submission else None,
        accepted=accepted,
        values=[value_line(value) for value in submission.values.all()] if submission else [],
        notable=submission.notable if submission else "",
    )


def value_line(value):
    """ "乡镇(街道)未保站覆盖率 45%(目标 ≥40%)达标": a value against the target it was judged by."""
    line = f"{value.indicator.subject} {value.value_display}"
    target = value.target
    if target is None:
        return f"{line}(无目标)"
    every = "每年" if target.every_year else ""
    return f"{line}(目标 {every}{SYMBOLS[target.comparator]}{target.value_display}){'达标' if value.met else '未达标'}"


# Writing


def write_xlsx(ledger, output):
    """Save the ledger as a workbook to `output` (a path or a binary file)."""
    book = Workbook()
    book.remove(book.active)
    _ledger_sheet(book, ledger)
    _summary_sheet(book, ledger)
    if ledger.reports:
        _reports_sheet(book, ledger)
    book.save(output)


def write_csv(ledger, output):
    """Write the ledger as CSV, one row per assignment, to `output` (a binary file): UTF-8 with a BOM."""
    text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(CSV_HEADER)
    plan, year = ledger.plan, ledger.round.year
    for entry in [entry for row in ledger.rows for entry in row.entries.values()] + ledger.reports:
        a = entry.assignment
        item = a.item
        writer.writerow(
            [
                plan.code,
                year,
                f"{item.measure.number}.{item.measure.title}" if item else "",
                item.code if item else "",
                item.measure_text if item else a.title,
                a.unit.name,
                a.unit.get_kind_display(),
                entry.state_label,
                entry.light_label,
                a.due.isoformat(),
                entry.submitted.isoformat() if entry.submitted else "",
                entry.accepted.isoformat() if entry.accepted else "",
                "；".join(entry.values),
                entry.notable,
            ]
        )
    text.detach()  # leave `output` open for the caller


def _ledger_sheet(book, ledger):
    sheet = book.create_sheet("台账")
    width = len(COUNTY_COLUMNS)
    first = len(ITEM_COLUMNS) + 1  # the first county column
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(ITEM_COLUMNS))
    _header(sheet.cell(1, 1, f"{ledger.round.year} 年度任务清单"))
    for index, (header, size) in enumerate(ITEM_COLUMNS, start=1):
        _header(sheet.cell(2, index, header))
        sheet.column_dimensions[get_column_letter(index)].width = size
    for number, county in enumerate(ledger.counties):
        start = first + number * width
        sheet.merge_cells(start_row=1, start_column=start, end_row=1, end_column=start + width - 1)
        _header(sheet.cell(1, start, county.name))
        for offset, (header, size) in enumerate(COUNTY_COLUMNS):
            _header(sheet.cell(2, start + offset, header))
            sheet.column_dimensions[get_column_letter(start + offset)].width = size
    for line, row in enumerate(ledger.rows, start=3):
        item = row.item
        texts = [
            f"{item.measure.number}.{item.measure.title}",
            item.code,
            item.measure_text,
            item.path_text,
            item.deadline_text,
            item.sections_text,
        ]
        for index, text in enumerate(texts, start=1):
            _text(sheet.cell(line, index, text))
        for number, county in enumerate(ledger.counties):
            entry = row.entries.get(county.pk)
            if entry is None:  # an item the plan does not ask of this county
                sheet.cell(line, first + number * width, "—")
                continue
            start = first + number * width
            state = _text(sheet.cell(line, start, entry.state_text))
            if entry.light:
                state.fill = FILLS[entry.light]
            _text(sheet.cell(line, start + 1, "\n".join(entry.values) or None))
            _date(sheet.cell(line, start + 2, entry.submitted))
            _date(sheet.cell(line, start + 3, entry.accepted))
    sheet.freeze_panes = "D3"  # the header rows, and the item's measure, code and text beside every county
    _print(sheet, ledger, rows="1:2")
    sheet.print_title_cols = "A:C"


def _summary_sheet(book, ledger):
    sheet = book.create_sheet("汇总")
    states = State.choices
    headers = [*(label for _, label in states), "合计", "红灯(已逾期)"]
    sheet.column_dimensions["A"].width = 34
    for index in range(2, len(headers) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 10
    line = 1
    for title, first, groups in (
        ("按重点任务统计", "重点任务", ledger.by_measure()),
        ("按报送单位统计", "报送单位", ledger.by_unit()),
    ):
        sheet.cell(line, 1, title).font = Font(bold=True, size=12)
        for index, header in enumerate([first, *headers], start=1):
            _header(sheet.cell(line + 1, index, header))
        line += 2
        totals = [0] * (len(states) + 2)
        for label, counts, red in groups:
            numbers = [*(counts[value] for value, _ in states), sum(counts.values()), red]
            totals = [total + number for total, number in zip(totals, numbers, strict=True)]
            _text(sheet.cell(line, 1, label))
            for index, number in enumerate(numbers, start=2):
                sheet.cell(line, index, number)
            if red:
                sheet.cell(line, len(numbers) + 1).fill = FILLS[Light.RED]
            line += 1
        sheet.cell(line, 1, "合计").font = Font(bold=True)
        for index, number in enumerate(totals, start=2):
            sheet.cell(line, index, number).font = Font(bold=True)
        line += 2
    sheet.cell(line, 1, f"逾期事项(红灯,截至 {ledger.on:%Y-%m-%d})").font = Font(bold=True, size=12)
    for index, header in enumerate(["事项", "报送单位", "状态", "报送期限", "逾期天数"], start=1):
        _header(sheet.cell(line + 1, index, header))
    line += 2
    for entry in ledger.late():
        a = entry.assignment
        _text(sheet.cell(line, 1, a.title))
        sheet.cell(line, 2, a.unit.name)
        sheet.cell(line, 3, entry.state_label).fill = FILLS[Light.RED]
        _date(sheet.cell(line, 4, a.due))
        sheet.cell(line, 5, (ledger.on - a.due).days)
        line += 1
    if not ledger.late():
        sheet.cell(line, 1, "无")
    _print(sheet, ledger)


def _reports_sheet(book, ledger):
    sheet = book.create_sheet("科室年度报告")
    for index, (header, size) in enumerate(REPORT_COLUMNS, start=1):
        _header(sheet.cell(1, index, header))
        sheet.column_dimensions[get_column_letter(index)].width = size
    for line, entry in enumerate(ledger.reports, start=2):
        a = entry.assignment
        sheet.cell(line, 1, a.unit.name)
        state = _text(sheet.cell(line, 2, entry.state_text))
        if entry.light:
            state.fill = FILLS[entry.light]
        _date(sheet.cell(line, 3, a.due))
        _date(sheet.cell(line, 4, entry.submitted))
        _date(sheet.cell(line, 5, entry.accepted))
        _text(sheet.cell(line, 6, entry.notable or None))
    sheet.freeze_panes = "A2"
    _print(sheet, ledger, rows="1:1")


def _header(cell):
    cell.font = Font(bold=True)
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return cell


def _text(cell):
    cell.alignment = Alignment(vertical="top", wrap_text=True)
    return cell


def _date(cell):
    cell.number_format = DATE_FORMAT
    cell.alignment = Alignment(vertical="top")
    return cell


def _print(sheet, ledger, rows=None):
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    if rows:
        sheet.print_title_rows = rows
    sheet.oddHeader.center.text = f"{ledger.plan.code} {ledger.round.year} 年度{sheet.title}"
    sheet.oddFooter.center.text = "第 &P 页,共 &N 页"
