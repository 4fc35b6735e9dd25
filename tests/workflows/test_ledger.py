"""The round's ledger (台账): the workbook opened with openpyxl and checked cell by cell against the database,
the CSV likewise, the page download scoped as the list is, the command, and the export's queries constant.

The 2024 round of measures 7 and 8 (and the sections' reports) is due on Thursday 2024-10-31; the ledger
is read on Monday 2024-11-04, when what 离石区 still owes is late."""

import csv
import datetime
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from assignments.models import Assignment, IndicatorValue, Measure, PlanUnit, Round, State, Unit, WorkItem, plain_number
from workflows import actions, deadlines, ledger, rounds
from workflows.models import Event

YEAR = 2024
TODAY = datetime.date(2024, 11, 4)
FILLS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
MEANING = {"red": "(已逾期)", "yellow": "(临近期限)"}
SYMBOL = {">=": "≥", "<=": "≤", "=": "="}
OTHER_VALUE = "77.7"  # only 兴县 reports it
NOTABLE = "社区社会组织培育经验交流会已召开"


def assignment(round_, code, unit):
    return Assignment.objects.get(round=round_, item__code=code, unit__name=unit)


def values_for(a, *numbers):
    """The submit body: the item's indicators, in order, given `numbers`."""
    pks = a.item.indicators.order_by("position").values_list("pk", flat=True)
    return {str(pk): number for pk, number in zip(pks, numbers, strict=True)}


def submit(a, by, *numbers, notable=""):
    a = actions.start(a, by=by, version=a.version)
    body = values_for(a, *numbers) if a.item_id else None
    return actions.submit(a, by=by, version=a.version, narrative="已按要求完成", indicators=body, notable=notable)


@pytest.fixture
def walked(plan, county_clerk, other_county_clerk, section_chief, make_user):
    """离石区: 7a accepted, 7b submitted, 8a left issued and 8b in progress (both late); 兴县: 7a submitted,
    8a extended to 2024-11-06 (due soon); 社管科 submitted its annual report."""
    measures = list(Measure.objects.filter(plan=plan, number__in=[7, 8]))
    round_, _ = rounds.open_round(YEAR, plan=plan, measures=measures, reports=True)
    accepted = submit(assignment(round_, "7a", "离石区"), county_clerk, "45", "90")
    accepted = actions.begin_review(accepted, by=section_chief, version=accepted.version)
    accepted = actions.accept(accepted, by=section_chief, version=accepted.version)
    submit(assignment(round_, "7b", "离石区"), county_clerk, "85")
    in_progress = assignment(round_, "8b", "离石区")
    actions.start(in_progress, by=county_clerk, version=in_progress.version)
    submit(assignment(round_, "7a", "兴县"), other_county_clerk, OTHER_VALUE, OTHER_VALUE)
    soon = assignment(round_, "8a", "兴县")
    actions.extend(soon, by=section_chief, version=soon.version, due=datetime.date(2024, 11, 6), reason="汛期")
    report = Assignment.objects.get(round=round_, item=None, unit__name="社管科")
    submit(report, make_user("sheguan_staff", "section_staff", "社管科"), notable=NOTABLE)
    round_ = Round.objects.select_related("plan").get(pk=round_.pk)
    return SimpleNamespace(round=round_, plan=plan, accepted=accepted)


def workbook_of(built):
    content = io.BytesIO()
    ledger.write_xlsx(built, content)
    return load_workbook(io.BytesIO(content.getvalue()))


def csv_rows(content):
    assert content.startswith(b"\xef\xbb\xbf")  # the byte-order mark: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def csv_of(built):
    content = io.BytesIO()
    ledger.write_csv(built, content)
    return csv_rows(content.getvalue())


def every_cell(book):
    return [str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]


def county_columns(sheet):
    """{county: its group's first column}, read from the merged group headers of row 1."""
    return {sheet.cell(1, column).value: column for column in range(7, sheet.max_column + 1, 4)}


def item_rows(sheet):
    return {sheet.cell(line, 2).value: line for line in range(3, sheet.max_row + 1)}


def lit(assignments):
    return deadlines.with_lights(assignments, on=TODAY)


def day(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def expected_values(a):
    """The value lines of the latest submission, spelt from the database's rows."""
    latest = a.submissions.order_by("-number").first()
    if latest is None:
        return None
    lines = []
    for value in IndicatorValue.objects.filter(submission=latest).select_related("indicator", "target"):
        unit, target = value.indicator.unit, value.target
        judged = (
            f"(目标 {SYMBOL[target.comparator]}{plain_number(target.value)}{unit}){'达标' if value.met else '未达标'}"
        )
        lines.append(f"{value.indicator.subject} {plain_number(value.value)}{unit}{judged}")
    return "\n".join(lines) or None


def accepted_on(a):
    event = Event.objects.filter(assignment=a, action="accept").order_by("-sequence").first()
    return timezone.localdate(event.at) if a.state == State.ACCEPTED and event else None


def submitted_on(a):
    latest = a.submissions.order_by("-number").first()
    return timezone.localdate(latest.created) if latest else None


# The workbook, cell by cell


def test_the_ledger_sheet_has_a_row_per_work_item_and_a_merged_column_group_per_county(walked):
    book = workbook_of(ledger.build(walked.round, on=TODAY))
    sheet = book["台账"]
    assert book.sheetnames == ["台账", "汇总", "科室年度报告"]
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "2024 年度任务清单" and "A1:F1" in merged
    assert [cell.value for cell in sheet[2][:6]] == [
        "重点任务",
        "编号",
        "工作措施",
        "工作路径及任务指标",
        "完成时限",
        "责任单位",
    ]
    counties = PlanUnit.objects.filter(plan=walked.plan, unit__kind=Unit.Kind.COUNTY).order_by("position")
    names = [link.unit.name for link in counties.select_related("unit")]
    assert len(names) == 13 and sheet.max_column == 6 + 4 * 13
    for index, name in enumerate(names):
        first = 7 + 4 * index
        assert sheet.cell(1, first).value == name
        assert f"{get_column_letter(first)}1:{get_column_letter(first + 3)}1" in merged
        assert [sheet.cell(2, first + k).value for k in range(4)] == ["状态", "指标值", "报送日期", "验收日期"]
    items = WorkItem.objects.filter(assignments__round=walked.round).distinct().order_by("measure__number", "position")
    assert [item.code for item in items] == ["7a", "7b", "8a", "8b"]
    assert sheet.max_row == 2 + len(items)
    for line, item in enumerate(items.select_related("measure"), start=3):
        texts = [f"{item.measure.number}.{item.measure.title}", item.code, item.measure_text, item.path_text]
        texts += [item.deadline_text, item.sections_text]
        assert [sheet.cell(line, column).value or "" for column in range(1, 7)] == texts


def test_every_assignment_s_cells_hold_its_state_values_and_dates_from_the_database(walked):
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["台账"]
    columns, lines = county_columns(sheet), item_rows(sheet)
    rows = lit(Assignment.objects.filter(round=walked.round, item__isnull=False)).select_related("item", "unit")
    assert rows.count() == 4 * 13
    for a in rows:
        line, first = lines[a.item.code], columns[a.unit.name]
        state = sheet.cell(line, first)
        assert state.value == a.get_state_display() + MEANING.get(a.light, ""), a.label
        if a.light:
            assert state.fill.fgColor.rgb.endswith(FILLS[a.light]), a.label
        else:
            assert state.fill.fill_type is None, a.label
        assert sheet.cell(line, first + 1).value == expected_values(a), a.label
        assert day(sheet.cell(line, first + 2).value) == submitted_on(a), a.label
        assert day(sheet.cell(line, first + 3).value) == accepted_on(a), a.label
        assert sheet.cell(line, first + 2).number_format == "yyyy-mm-dd"


def test_the_cells_say_what_the_county_reported_against_the_targets_and_colour_the_state_by_its_light(walked):
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["台账"]
    columns, lines = county_columns(sheet), item_rows(sheet)
    lishi, xing = columns["离石区"], columns["兴县"]
    station, staff = walked.accepted.item.indicators.order_by("position").values_list("subject", flat=True)
    assert sheet.cell(lines["7a"], lishi + 1).value == (f"{station} 45%(目标 ≥40%)达标\n{staff} 90%(目标 =100%)未达标")
    assert sheet.cell(lines["7a"], lishi).value == "已验收" and sheet.cell(lines["7a"], lishi).fill.fill_type is None
    assert day(sheet.cell(lines["7a"], lishi + 3).value) == timezone.localdate()
    assert sheet.cell(lines["7b"], lishi).value == "已报送"
    assert sheet.cell(lines["7b"], lishi).fill.fgColor.rgb.endswith(FILLS["green"])
    assert sheet.cell(lines["8a"], lishi).value == "已下达(已逾期)"
    assert sheet.cell(lines["8a"], lishi).fill.fgColor.rgb.endswith(FILLS["red"])
    assert sheet.cell(lines["8b"], lishi).value == "办理中(已逾期)"
    assert sheet.cell(lines["8a"], xing).value == "已下达(临近期限)"
    assert sheet.cell(lines["8a"], xing).fill.fgColor.rgb.endswith(FILLS["yellow"])
    assert sheet.cell(lines["8a"], xing + 1).value is None  # nothing submitted, nothing shown


def test_the_ledger_prints_landscape_on_a3_with_the_header_rows_frozen_and_repeated(walked):
    book = workbook_of(ledger.build(walked.round, on=TODAY))
    sheet = book["台账"]
    assert sheet.freeze_panes == "D3"
    assert sheet.print_title_rows == "$1:$2"  # as Excel writes a print title
    assert sheet.print_title_cols == "$A:$C"
    assert sheet.column_dimensions["D"].width == 44 and sheet.column_dimensions["H"].width == 32
    assert sheet["D3"].alignment.wrap_text and sheet["A2"].font.bold
    for each in book:
        assert each.page_setup.orientation == "landscape", each.title
        assert int(each.page_setup.paperSize) == int(each.PAPERSIZE_A3) == 8, each.title


def summary_table(sheet, title):
    """{label: [count per state…, 合计, 红灯]} of the table under `title`, with its 合计 row."""
    line = next(row for row in range(1, sheet.max_row + 1) if sheet.cell(row, 1).value == title) + 2
    table = {}
    while sheet.cell(line, 1).value:
        table[sheet.cell(line, 1).value] = [sheet.cell(line, column).value for column in range(2, 2 + len(State) + 2)]
        line += 1
    return table


def database_counts(assignments):
    by_state = dict(assignments.values_list("state").annotate(Count("pk")))
    red = lit(assignments).filter(light="red").count()
    return [*(by_state.get(state, 0) for state in State.values), assignments.count(), red]


def test_the_summary_counts_each_measure_and_unit_by_state_as_the_database_does(walked):
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["汇总"]
    assert [sheet.cell(2, column).value for column in range(1, 11)] == [
        "重点任务",
        *State.labels,
        "合计",
        "红灯(已逾期)",
    ]
    mine = Assignment.objects.filter(round=walked.round)
    by_measure = summary_table(sheet, "按重点任务统计")
    for measure in Measure.objects.filter(plan=walked.plan, number__in=[7, 8]):
        assert by_measure[f"{measure.number}.{measure.title}"] == database_counts(mine.filter(item__measure=measure))
    assert by_measure["科室年度报告"] == database_counts(mine.filter(item=None))
    assert by_measure["合计"] == database_counts(mine)
    by_unit = summary_table(sheet, "按报送单位统计")
    units = Unit.objects.filter(unit_assignments__round=walked.round).distinct()
    assert set(by_unit) == {unit.name for unit in units} | {"合计"}
    for unit in units:
        assert by_unit[unit.name] == database_counts(mine.filter(unit=unit))
    assert by_unit["离石区"][-1] == 2 and by_unit["合计"] == database_counts(mine)


def test_the_summary_lists_the_late_ones(walked):
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["汇总"]
    heading = next(row for row in range(1, sheet.max_row + 1) if str(sheet.cell(row, 1).value).startswith("逾期事项"))
    assert sheet.cell(heading, 1).value == "逾期事项(红灯,截至 2024-11-04)"
    listed = set()
    for line in range(heading + 2, sheet.max_row + 1):
        listed.add((sheet.cell(line, 1).value, sheet.cell(line, 2).value))
        assert sheet.cell(line, 5).value == (TODAY - day(sheet.cell(line, 4).value)).days
    red = lit(Assignment.objects.filter(round=walked.round)).filter(light="red").select_related("item", "round", "unit")
    assert listed == {(a.title, a.unit.name) for a in red}
    assert ("8a " + WorkItem.objects.get(code="8a").measure_text, "离石区") in listed


def test_the_sections_reports_have_a_sheet_of_their_own(walked):
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["科室年度报告"]
    assert [cell.value for cell in sheet[1]] == ["报送单位", "状态", "报送期限", "报送日期", "验收日期", "重要事项"]
    assert sheet.freeze_panes == "A2"
    reports = lit(Assignment.objects.filter(round=walked.round, item=None)).order_by("unit__position")
    assert reports.count() == sheet.max_row - 1 >= 1
    for line, a in enumerate(reports.select_related("unit"), start=2):
        latest = a.submissions.order_by("-number").first()
        row = [cell.value for cell in sheet[line]]
        assert row[0] == a.unit.name
        assert row[1] == a.get_state_display() + MEANING.get(a.light, "")
        assert [day(row[2]), day(row[3]), day(row[4])] == [a.due, submitted_on(a), accepted_on(a)]
        assert row[5] == (latest.notable if latest else None)
    assert any(cell.value == NOTABLE for cell in sheet["F"])


# The CSV


def test_the_csv_has_a_row_per_assignment_read_from_the_database(walked):
    rows = csv_of(ledger.build(walked.round, on=TODAY))
    assert rows[0] == ledger.CSV_HEADER
    assert len(rows) - 1 == Assignment.objects.filter(round=walked.round).count()
    a = walked.accepted
    (row,) = [row for row in rows if row[3] == "7a" and row[5] == "离石区"]
    sheet = workbook_of(ledger.build(walked.round, on=TODAY))["台账"]
    assert row == [
        walked.plan.code,
        "2024",
        f"{a.item.measure.number}.{a.item.measure.title}",
        "7a",
        a.item.measure_text,
        "离石区",
        "县级民政局",
        "已验收",
        "",
        a.due.isoformat(),
        submitted_on(a).isoformat(),
        accepted_on(a).isoformat(),
        expected_values(a).replace("\n", "；"),
        "",
    ]
    assert sheet.cell(item_rows(sheet)["7a"], county_columns(sheet)["离石区"] + 1).value == expected_values(a)
    for a in lit(Assignment.objects.filter(round=walked.round)).select_related("item", "unit"):
        (row,) = [row for row in rows if row[3] == (a.item.code if a.item else "") and row[5] == a.unit.name]
        assert row[7] == a.get_state_display() and row[9] == a.due.isoformat(), a.label
        assert row[8] == ({"red": "红灯 已逾期", "yellow": "黄灯 临近期限", "green": "绿灯 正常"}.get(a.light, ""))
    (report,) = [row for row in rows if row[5] == "社管科"]
    assert (report[3], report[4], report[6], report[13]) == ("", "2024 年度社管科工作报告", "科室", NOTABLE)


# The download on the pages


@pytest.fixture
def on_the_fourth(monkeypatch):
    monkeypatch.setattr(deadlines, "today", lambda: TODAY)


def download(client, user, extension, **query):
    client.force_login(user)
    response = client.get(reverse("assignments:ledger", args=[YEAR, extension]), query)
    assert response.status_code == 200, response.content[:300]
    return response, b"".join(response.streaming_content)


def test_a_county_downloads_a_ledger_with_its_own_columns_only(client, walked, county_clerk, on_the_fourth):
    response, content = download(client, county_clerk, "xlsx", plan=walked.plan.code)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(content))
    sheet = book["台账"]
    assert county_columns(sheet) == {"离石区": 7} and sheet.max_column == 10
    assert book.sheetnames == ["台账", "汇总"]  # no section's report is a county's to see
    cells = every_cell(book)
    assert not [cell for cell in cells if "兴县" in cell or OTHER_VALUE in cell]
    assert "已下达(已逾期)" in cells  # 离石区's own late 8a, read with the pages' today
    assert set(summary_table(book["汇总"], "按报送单位统计")) == {"离石区", "合计"}


def test_another_county_s_values_appear_nowhere_in_a_county_s_csv(client, walked, county_clerk, on_the_fourth):
    response, content = download(client, county_clerk, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(content)
    assert {row[5] for row in rows[1:]} == {"离石区"} and len(rows) == 1 + 4
    assert not [cell for row in rows for cell in row if "兴县" in cell or OTHER_VALUE in cell or NOTABLE in cell]


def test_the_leader_s_download_holds_every_county_which_the_county_s_search_would_have_found(
    client, walked, leader, on_the_fourth
):
    _, content = download(client, leader, "xlsx")
    book = load_workbook(io.BytesIO(content))
    cells = every_cell(book)
    assert len(county_columns(book["台账"])) == 13
    assert any("兴县" in cell for cell in cells) and any(OTHER_VALUE in cell for cell in cells)
    assert NOTABLE in cells


def test_a_co_operating_section_downloads_the_rows_it_is_responsible_for_and_its_own_report(
    client, walked, other_section_chief, on_the_fourth
):
    _, content = download(client, other_section_chief, "xlsx")
    book = load_workbook(io.BytesIO(content))
    assert list(item_rows(book["台账"])) == ["7a", "7b"]  # 社管科 co-operates on 7a and 7b, not on measure 8
    assert len(county_columns(book["台账"])) == 13
    assert [cell.value for cell in book["科室年度报告"]["A"]][1:] == ["社管科"]


def test_the_download_needs_a_login_an_opened_round_and_a_known_format(client, walked, county_clerk):
    url = reverse("assignments:ledger", args=[YEAR, "xlsx"])
    assert client.get(url).status_code == 302
    client.force_login(county_clerk)
    assert client.get(reverse("assignments:ledger", args=[2025, "xlsx"])).status_code == 404
    assert client.get(reverse("assignments:ledger", args=[YEAR, "pdf"])).status_code == 404
    assert client.get(url, {"plan": "没有的文号"}).status_code == 404


def test_the_rounds_page_and_the_list_of_a_year_link_to_the_ledger(client, walked, county_clerk):
    client.force_login(county_clerk)
    xlsx = reverse("assignments:ledger", args=[YEAR, "xlsx"])
    csv_url = reverse("assignments:ledger", args=[YEAR, "csv"])
    page = client.get(reverse("assignments:rounds")).content.decode()
    assert xlsx in page and csv_url in page
    listed = client.get(reverse("assignments:index"), {"year": YEAR}).content.decode()
    assert xlsx in listed and csv_url in listed
    assert xlsx not in client.get(reverse("assignments:index")).content.decode()  # no year chosen, no round


# The command


def test_the_command_exports_everything_or_what_one_account_may_see(walked, county_clerk, tmp_path):
    everything, mine = tmp_path / "all.xlsx", tmp_path / "mine.xlsx"
    out = io.StringIO()
    call_command(
        "export_round", str(YEAR), "--format", "xlsx", "-o", str(everything), "--today", "2024-11-04", stdout=out
    )
    total = Assignment.objects.filter(round=walked.round).count()
    assert f"督办事项 {total} 个" in out.getvalue()
    book = load_workbook(everything)
    assert len(county_columns(book["台账"])) == 13 and "科室年度报告" in book.sheetnames
    assert "已下达(已逾期)" in every_cell(book)
    call_command("export_round", str(YEAR), "-o", str(mine), "--as", county_clerk.username, stdout=io.StringIO())
    assert county_columns(load_workbook(mine)["台账"]) == {"离石区": 7}


def test_the_command_writes_csv_to_a_file_with_a_byte_order_mark_or_to_the_output_without(walked, tmp_path):
    path = tmp_path / "ledger.csv"
    call_command("export_round", str(YEAR), "--format", "csv", "-o", str(path), stdout=io.StringIO())
    rows = csv_rows(path.read_bytes())
    assert len(rows) - 1 == Assignment.objects.filter(round=walked.round).count()
    out = io.StringIO()
    call_command("export_round", str(YEAR), "--format", "csv", stdout=out)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == rows


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "xlsx"], "须用 -o 指定文件"),
        (["--as", "nobody", "--format", "csv"], "没有名为“nobody”的在用账号"),
        (["--plan", "没有的文号", "--format", "csv"], "没有文号为“没有的文号”的计划"),
    ],
)
def test_the_command_refuses_what_it_cannot_export(walked, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_round", str(YEAR), *arguments, stdout=io.StringIO())


def test_the_command_refuses_a_round_not_yet_opened(plan):
    with pytest.raises(CommandError, match="2025 年度尚未下达"):
        call_command("export_round", "2025", "--format", "csv", stdout=io.StringIO())


# Queries


def export_everything(round_, user=None):
    built = ledger.build(round_, user=user, on=TODAY)
    ledger.write_xlsx(built, io.BytesIO())
    ledger.write_csv(built, io.BytesIO())
    return built


def test_the_export_reads_a_round_in_the_same_queries_at_two_sizes(
    plan, county_clerk, other_county_clerk, section_chief, django_assert_num_queries
):
    round_, _ = rounds.open_round(YEAR, plan=plan, measures=[Measure.objects.get(plan=plan, number=7)])
    submit(assignment(round_, "7a", "离石区"), county_clerk, "45", "90")
    round_ = Round.objects.select_related("plan").get(pk=round_.pk)
    # the bureau's calendar overrides for the lights; the assignments with their items, measures and units;
    # the latest submissions; their values; the acceptances; the plan's counties
    with django_assert_num_queries(6):
        small = export_everything(round_)
    rounds.open_round(YEAR, plan=plan, measures=list(Measure.objects.filter(plan=plan, number__in=[7, 8, 15])))
    rounds.open_round(YEAR, plan=plan, measures=[], reports=True)
    submit(assignment(round_, "8a", "兴县"), other_county_clerk, "100")
    accepted = submit(assignment(round_, "15a", "离石区"), county_clerk, "100", "80", "100", "600")
    accepted = actions.begin_review(accepted, by=section_chief, version=accepted.version)
    actions.accept(accepted, by=section_chief, version=accepted.version)
    with django_assert_num_queries(6):
        large = export_everything(round_)
    assert len(large.entries) > 2 * len(small.entries)


def test_the_page_download_reads_a_round_in_the_same_queries_at_two_sizes(client, plan, county_clerk, on_the_fourth):
    round_, _ = rounds.open_round(YEAR, plan=plan, measures=[Measure.objects.get(plan=plan, number=7)])
    submit(assignment(round_, "7a", "离石区"), county_clerk, "45", "90")
    client.force_login(county_clerk)
    url = reverse("assignments:ledger", args=[YEAR, "xlsx"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    rounds.open_round(YEAR, plan=plan, measures=list(Measure.objects.filter(plan=plan, number__in=[7, 8, 15])))
    submit(assignment(round_, "8a", "离石区"), county_clerk, "100")
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
