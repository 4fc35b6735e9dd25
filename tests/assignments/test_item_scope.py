"""An item scoped to named counties: the plan file's `counties` ("all" or a list), kept in file order through
load, export and the workbook, and a round issues the item to those counties only; with the small fixes
around reporting units (the issued count, the flow's label, the list order, extending any unit at once)."""

import copy
import datetime
import json
import logging

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from assignments import plans, selectors, workbook
from assignments.models import Assignment, ItemCounty, Measure, Unit, WorkItem
from workflows import actions, deadlines, rounds
from workflows.flows import AssignmentFlow
from workflows.models import Event

from ..plans_fixtures import CODE, plan_file_text, run, second_plan_data

SCOPE = ["兴县", "临县", "石楼县"]  # not in the plan's order of counties: the file's order is kept


@pytest.fixture(scope="module")
def plan_file():
    """The repository's plan file as decoded JSON, before parsing."""
    return json.loads(settings.PLAN_FILE.read_text(encoding="utf-8"))


def scoped_plan_data(plan_file, code="11a", scope=SCOPE):
    data = copy.deepcopy(plan_file)
    item_of(data, code)["counties"] = scope
    return data


def item_of(data, code):
    return next(item for measure in data["measures"] for item in measure["items"] if item["code"] == code)


@pytest.fixture
def scoped(plan, plan_file):
    """The repository's plan with 11a scoped to 兴县、临县、石楼县."""
    plans.load(plans.parse(scoped_plan_data(plan_file)))
    return WorkItem.objects.get(code="11a")


def second_with_scope():
    data = second_plan_data()
    data["measures"][0]["items"][0]["counties"] = ["新区", "离石区"]
    return data


# --- the plan file


def test_a_scoped_item_keeps_its_counties_in_the_files_order(scoped):
    assert [unit.name for unit in scoped.scope()] == SCOPE
    assert scoped.scope_text == "仅限:兴县、临县、石楼县"
    assert WorkItem.objects.get(code="11b").scope() == []
    assert item_of(json.loads(run("export_plan")), "11a")["counties"] == SCOPE


def test_the_real_plan_still_exports_every_item_for_all_counties(plan):
    assert run("export_plan") == settings.PLAN_FILE.read_text(encoding="utf-8")
    assert not ItemCounty.objects.exists()


def test_export_load_export_is_byte_identical_with_a_scoped_item(plan, tmp_path):
    path = tmp_path / "second.json"
    path.write_text(plan_file_text(second_with_scope()), encoding="utf-8")
    run("load_plan", str(path))
    first = run("export_plan", "--plan", CODE)
    assert json.loads(first)["measures"][0]["items"][0]["counties"] == ["新区", "离石区"]
    assert json.loads(first)["measures"] == second_with_scope()["measures"]
    assert "未作改动" in run("load_plan", str(path))
    plans.load(plans.parse(json.loads(first)))
    assert run("export_plan", "--plan", CODE) == first


def test_a_scope_changed_in_the_file_is_rewritten_and_all_removes_it(scoped, plan_file):
    report = plans.load(plans.parse(scoped_plan_data(plan_file, scope=["临县"])))
    assert report.changed and [unit.name for unit in scoped.scope()] == ["临县"]
    plans.load(plans.parse(plan_file))
    assert scoped.scope() == [] and not ItemCounty.objects.exists()


@pytest.mark.parametrize(
    ("scope", "place", "message"),
    [
        (["临县", "太原市"], "第 11 项重点任务 11a 的 counties[1]", "未知的县(市、区) '太原市'"),
        (["临县", "社管科"], "第 11 项重点任务 11a 的 counties[1]", "'社管科' 是科室,不是县(市、区)"),
        (["临县", "兴县", "临县"], "第 11 项重点任务 11a 的 counties[2]", "'临县' 重复"),
        ([], "第 11 项重点任务 11a 的 counties", '应为 "all" 或县(市、区)名称的非空数组'),
        ("some", "第 11 项重点任务 11a 的 counties", '应为 "all" 或县(市、区)名称的非空数组'),
        (["临县", ""], "第 11 项重点任务 11a 的 counties[1]", "应为非空字符串"),
    ],
)
def test_a_bad_scope_is_refused_with_its_place(plan_file, scope, place, message):
    with pytest.raises(plans.PlanFileError) as refused:
        plans.parse(scoped_plan_data(plan_file, scope=scope))
    assert (refused.value.place, refused.value.message[: len(message)]) == (place, message)


def test_a_duty_of_a_county_outside_the_items_scope_is_refused(plan_file):
    with pytest.raises(plans.PlanFileError) as refused:
        plans.parse(scoped_plan_data(plan_file, code="11b", scope=["临县", "石楼县", "兴县"]))
    assert refused.value.place == "第 11 项重点任务 11b 的 duties[1].counties[0]"
    assert "'离石区' 不在本行的适用县(临县、石楼县、兴县)之内" in refused.value.message


def test_a_missing_scope_is_refused(plan_file):
    data = copy.deepcopy(plan_file)
    del item_of(data, "11a")["counties"]
    with pytest.raises(plans.PlanFileError, match="第 11 项重点任务 11a 的 counties: 缺少此项"):
        plans.parse(data)


# --- the workbook


def test_the_workbook_carries_the_scope_in_its_column_and_back(scoped, tmp_path):
    path = tmp_path / "plan.xlsx"
    run("export_plan", "--format", "xlsx", "-o", str(path))
    sheet = load_workbook(path)["任务清单"]
    column = [cell.value for cell in sheet[1]].index("适用县")
    rows = {row[0].value: row[column].value for row in sheet.iter_rows(min_row=2)}
    assert (rows["11a"], rows["11b"]) == ("兴县、临县、石楼县", "全部")
    assert item_of(workbook.read(path), "11a")["counties"] == SCOPE
    assert item_of(workbook.read(path), "11b")["counties"] == []
    assert "未作改动" in run("load_plan", str(path))


@pytest.mark.parametrize(
    ("value", "message"),
    [("临县、太原市", "未知的县(市、区) '太原市'"), ("临县、社管科", "'社管科' 是科室"), ("", "不能为空")],
)
def test_a_bad_scope_in_the_workbook_is_refused_at_its_cell(scoped, tmp_path, value, message):
    path = tmp_path / "plan.xlsx"
    run("export_plan", "--format", "xlsx", "-o", str(path))
    book = load_workbook(path)
    sheet = book["任务清单"]
    letter = sheet.cell(row=1, column=[cell.value for cell in sheet[1]].index("适用县") + 1).column_letter
    row = next(row[0].row for row in sheet.iter_rows(min_row=2) if row[0].value == "11a")
    sheet[f"{letter}{row}"] = value
    book.save(path)
    with pytest.raises(plans.PlanFileError) as refused:
        workbook.load(path)
    assert refused.value.place == f"工作表“任务清单”第 {row} 行 {letter} 列(适用县)"
    assert message in refused.value.message
    assert [unit.name for unit in WorkItem.objects.get(code="11a").scope()] == SCOPE


# --- rounds and pages


def test_a_round_issues_a_scoped_item_to_its_counties_only(scoped):
    round_, created = rounds.open_round(2024, measures=[Measure.objects.get(number=11)])
    issued = Assignment.objects.filter(round=round_)
    assert sorted(issued.filter(item__code="11a").values_list("unit__name", flat=True)) == sorted(SCOPE)
    assert issued.filter(item__code="11b").count() == Unit.objects.counties().count() == 13
    assert created == 13 + 3


def test_issuing_a_scoped_item_to_another_county_is_refused_in_chinese(scoped, section_chief):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=4)])
    with pytest.raises(actions.Invalid, match="工作事项 11a 只向兴县、临县、石楼县下达,不向孝义市下达"):
        rounds.issue(round_, scoped, Unit.objects.get(name="孝义市"), by=section_chief)
    assert not Assignment.objects.filter(item=scoped).exists()
    issued = rounds.issue(round_, scoped, Unit.objects.get(name="临县"), by=section_chief)
    assert (issued.item_id, issued.unit.name) == (scoped.pk, "临县")


def test_the_measure_and_plan_pages_show_the_scope(client, scoped, county_clerk):
    client.force_login(county_clerk)
    measure_page = client.get(reverse("plan:measure", args=[11])).content.decode()
    assert "仅限:兴县、临县、石楼县" in measure_page and measure_page.count("仅限:") == 1
    plan_page = client.get(reverse("plan:index")).content.decode()
    assert "11a 仅限:兴县、临县、石楼县" in plan_page and plan_page.count("仅限:") == 1


# --- small fixes around reporting units


def test_the_issued_log_line_counts_the_sections_reports_too(plan, caplog, django_capture_on_commit_callbacks):
    with caplog.at_level(logging.INFO, logger="duban.events"), django_capture_on_commit_callbacks(execute=True):
        _, created = rounds.open_round(2024)
    reports = Assignment.objects.reports().count()
    assert reports == 4 and created == Assignment.objects.count()
    assert f"round 2024: {created} assignments issued by the system" in caplog.text


def test_the_flows_work_task_is_named_for_any_reporting_unit():
    assert AssignmentFlow.work.task_title == "报送单位办理与报送"


def test_section_reports_come_after_the_items_in_lists_on_every_database(plan):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=21)], reports=True)
    default = list(Assignment.objects.filter(round=round_))
    listed = list(selectors.assignment_list(Assignment.objects.all()))
    for rows in (default, listed):
        assert [row.is_report for row in rows] == [False] * 13 + [True] * 4
        assert [row.unit.name for row in rows[13:]] == ["社管科", "社事科", "救助科", "区划科"]


@pytest.fixture
def report_round(plan):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    return round_


def test_a_sections_report_is_extended_by_the_coordinators_chief(report_round, section_chief):
    later = datetime.date(2024, 11, 15)
    extended = deadlines.extend_unit(
        report_round, Unit.objects.get(name="社管科"), by=section_chief, due=later, reason="统一延期"
    )
    assert [(row.is_report, row.unit.name) for row in extended] == [(True, "社管科")]
    assert Assignment.objects.reports().get(unit__name="社管科").due == later
    assert Event.objects.filter(action="extend").count() == 1


@pytest.fixture
def chief_api(section_chief):
    client = APIClient()
    client.force_authenticate(section_chief)
    return client


def test_the_api_extends_any_reporting_unit_named_by_unit(report_round, chief_api):
    body = {"unit": "社事科", "due": "2024-11-15", "reason": "统一延期"}
    response = chief_api.post("/api/v1/rounds/2024/extend/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["extended"] == [Assignment.objects.reports().get(unit__name="社事科").pk]
    by_county = chief_api.post("/api/v1/rounds/2024/extend/", {**body, "unit": "兴县"}, format="json")
    assert by_county.status_code == 200 and by_county.json()["extended"]


@pytest.mark.parametrize(
    ("names", "field", "message"),
    [
        ({"unit": "社管科", "county": "兴县"}, "unit", "二者只填一个"),
        ({}, "unit", "请用 unit 填写一个报送单位"),
        ({"unit": "太原市"}, "unit", "没有名为“太原市”的报送单位"),
        ({"county": "太原市"}, "county", "没有名为“太原市”的报送单位"),
    ],
)
def test_the_api_refuses_a_unit_it_cannot_tell(report_round, chief_api, names, field, message):
    body = {**names, "due": "2024-11-15", "reason": "统一延期"}
    response = chief_api.post("/api/v1/rounds/2024/extend/", body, format="json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith(f"{field}:") and message in detail
    assert not Event.objects.filter(action="extend").exists()


def test_the_rounds_page_extends_a_sections_report(client, report_round, section_chief):
    client.force_login(section_chief)
    page = client.get(reverse("assignments:rounds")).content.decode()
    assert '<option value="社管科">' in page and '<option value="兴县">' in page
    data = {"year": 2024, "unit": "社管科", "measure": "", "due": "2024-11-15", "reason": "统一延期"}
    response = client.post(reverse("assignments:extend"), data, follow=True)
    assert "已将社管科 2024 年度的 1 个事项延期" in response.content.decode()
    assert Assignment.objects.reports().get(round=report_round, unit__name="社管科").due == datetime.date(2024, 11, 15)
