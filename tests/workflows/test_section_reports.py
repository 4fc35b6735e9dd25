"""The sections report too: each round issues, to every section the plan names other than its coordinator
and responsible for one of its measures, an annual report that the section submits and the coordinator
(基政科) reviews, with the lifecycle, history and rules of any assignment."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from assignments.models import Assignment, Measure, Plan, Unit
from permissions import roles
from permissions.checks import available_actions, can_issue, can_issue_reports, visible_to
from workflows import actions, history, rounds
from workflows.flows import AssignmentFlow
from workflows.selectors import to_do

REPORTING = ["社管科", "社事科", "救助科", "区划科"]  # the plan's sections but 基政科, in the plan's order


@pytest.fixture
def round_with_reports(plan):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    return round_


@pytest.fixture
def report(round_with_reports):
    """社管科's 2024 annual report."""
    return Assignment.objects.reports().get(round=round_with_reports, unit__name="社管科")


@pytest.fixture
def sheguan_staff(make_user):
    return make_user("sheguan_staff", "section_staff", "社管科")


def fresh(assignment):
    return Assignment.objects.get(pk=assignment.pk)


def test_a_round_issues_one_report_to_each_responsible_section_but_the_coordinator(round_with_reports):
    reports = list(Assignment.objects.reports().filter(round=round_with_reports).select_related("unit", "round"))
    assert [report.unit.name for report in sorted(reports, key=lambda r: r.unit.position)] == REPORTING
    assert [section.name for section in rounds.section_reports(round_with_reports.plan)] == REPORTING
    report = next(report for report in reports if report.unit.name == "社管科")
    assert report.lead_section.name == "基政科" and report.state == "assigned"
    assert report.due == datetime.date(2024, 10, 31)  # the report day, a Thursday
    assert report.key == f"2024/r{round_with_reports.plan_id}/{report.unit_id}"
    assert report.title == "2024 年度社管科工作报告" and report.county is None
    assert report.events.get().action == "issue"


def test_opening_twice_issues_no_second_report(round_with_reports):
    before = Assignment.objects.count()
    _, created = rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    assert created == 0 and Assignment.objects.count() == before


def test_naming_measures_issues_their_items_only(plan):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    assert round_.assignments.exists() and not round_.assignments.reports().exists()


def test_a_report_day_on_a_rest_day_moves_to_the_next_working_day(plan):
    Plan.objects.filter(pk=plan.pk).update(report_day=1)  # 2024-10-01: 国庆节
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)], reports=True)
    assert {report.due for report in round_.assignments.reports()} == {datetime.date(2024, 10, 8)}


def test_only_the_coordinators_chief_issues_the_reports(plan, section_chief, other_section_chief):
    round_, _ = rounds.open_round(2024, by=other_section_chief)  # 社管科 opens the measures it leads
    assert not round_.assignments.reports().exists()
    with pytest.raises(actions.NotAllowed, match="牵头汇总科室的科长"):
        rounds.open_round(2024, by=other_section_chief, reports=True)
    _, created = rounds.open_round(2024, by=section_chief, measures=[Measure.objects.get(number=7)], reports=True)
    assert round_.assignments.reports().count() == 4
    assert {report.events.get().unit_name for report in round_.assignments.reports()} == {"基政科"}


def test_a_section_submits_its_report_and_the_coordinator_reviews_it(report, sheguan_staff, section_chief):
    a = actions.start(report, by=sheguan_staff, version=report.version)
    with pytest.raises(actions.Invalid):  # a report asks no indicators
        actions.submit(a, by=sheguan_staff, version=a.version, narrative="全年工作情况", indicators={"1": "5"})
    a = actions.submit(a, by=sheguan_staff, version=a.version, narrative="全年工作情况", notable="社会组织年检延期")
    assert a.state == "submitted"
    a = actions.begin_review(a, by=section_chief, version=a.version)
    a = actions.return_for_rework(a, by=section_chief, version=a.version, reason="请补充重要事项的处理结果")
    assert a.state == "returned" and a.assignee == sheguan_staff
    a = actions.submit(fresh(a), by=sheguan_staff, version=a.version, narrative="全年工作情况(补充)")
    a = actions.begin_review(a, by=section_chief, version=a.version)
    a = actions.accept(a, by=section_chief, version=a.version)
    assert fresh(a).state == "accepted"
    assert [s.notable for s in fresh(a).submissions.order_by("number")] == ["社会组织年检延期", ""]
    assert list(fresh(a).events.values_list("unit_name", flat=True)) == [
        "", "社管科", "社管科", "基政科", "基政科", "社管科", "基政科", "基政科",
    ]  # fmt: skip
    verdict = history.verify()
    assert verdict.intact and verdict.events >= 8, verdict.problem


def test_the_reports_work_task_is_in_the_sections_queue(report, sheguan_staff, co_section_staff, county_clerk):
    queue = Task.objects.user_queue(sheguan_staff, flow_class=AssignmentFlow).values_list("process_id", flat=True)
    assert report.process_id in set(queue)
    assert visible_to(sheguan_staff, Assignment.objects.filter(to_do(sheguan_staff))).filter(pk=report.pk).exists()
    for other in (co_section_staff, county_clerk):
        assert report.process_id not in set(
            Task.objects.user_queue(other, flow_class=AssignmentFlow).values_list("process_id", flat=True)
        )


def test_no_other_section_may_work_on_or_countersign_a_report(report, walk, sheguan_staff, co_section_staff):
    assert available_actions(co_section_staff, report) == []
    with pytest.raises(actions.NotAllowed):
        actions.start(report, by=co_section_staff, version=report.version)
    a = actions.start(report, by=sheguan_staff, version=report.version)
    a = actions.submit(a, by=sheguan_staff, version=a.version, narrative="全年工作情况")
    a = actions.begin_review(a, by=walk.chief, version=a.version)
    assert "countersign" not in available_actions(co_section_staff, a)


def test_the_sections_chief_hands_the_report_to_its_staff(report, make_user, sheguan_staff, county_clerk):
    chief = make_user("sheguan_chief", "section_chief", "社管科")
    a = actions.reassign(report, by=chief, version=report.version, to=sheguan_staff.username)
    assert a.assignee == sheguan_staff
    with pytest.raises(actions.Invalid, match="不是本单位的经办人"):
        actions.reassign(a, by=chief, version=a.version, to=county_clerk.username)


def test_counties_and_other_sections_never_see_a_report(
    client, report, county_clerk, county_head, co_section_staff, sheguan_staff
):
    for user in (county_clerk, county_head, co_section_staff):
        assert not visible_to(user).filter(pk=report.pk).exists()
        client.force_login(user)
        assert client.get(f"/assignments/{report.pk}/").status_code == 404
        api = APIClient()
        api.force_authenticate(user)
        assert api.get(f"/api/v1/assignments/{report.pk}/").status_code == 404
        assert api.get("/api/v1/assignments/", {"unit": "社管科"}).json()["count"] == 0
    # 社事科 sees its own report and not 社管科's
    own = visible_to(co_section_staff).reports()
    assert list(own.values_list("unit__name", flat=True)) == ["社事科"]
    assert list(visible_to(sheguan_staff).reports().values_list("unit__name", flat=True)) == ["社管科"]


def test_the_coordinator_leaders_and_auditors_see_every_report(round_with_reports, section_staff, leader, auditor):
    for user in (section_staff, leader, auditor):
        assert visible_to(user).reports().count() == 4


def test_api_rows_name_the_reporting_unit(report, section_chief):
    api = APIClient()
    api.force_authenticate(section_chief)
    body = api.get("/api/v1/assignments/", {"unit": "社管科"}).json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["unit"] == {"name": "社管科", "kind": "section"} and row["county"] is None
    assert row["item"] is None and row["measure"] is None and row["title"] == "2024 年度社管科工作报告"
    county_row = api.get("/api/v1/assignments/", {"unit": "离石区", "page_size": 1}).json()["results"][0]
    assert county_row["unit"] == {"name": "离石区", "kind": "county"} and county_row["county"] == "离石区"
    assert api.get("/api/v1/assignments/", {"county": "社管科"}).json()["count"] == 0
    detail = api.get(f"/api/v1/assignments/{report.pk}/").json()
    assert detail["targets"] == [] and detail["sections"] == ["基政科"] and detail["measure_body"] is None
    assert {measure["number"] for measure in detail["covers"]} >= {3, 18}
    assert all(measure["body"] for measure in detail["covers"])


def test_the_reports_page_shows_the_measures_it_covers(client, report, sheguan_staff):
    client.force_login(sheguan_staff)
    page = client.get(f"/assignments/{report.pk}/").content.decode()
    assert "2024 年度社管科工作报告" in page
    assert Measure.objects.get(number=18).body[:30] in page
    assert Measure.objects.get(number=1).body[:30] not in page  # 基政科's alone
    listed = client.get("/assignments/", {"unit": "社管科"}).content.decode()
    assert f"/assignments/{report.pk}/" in listed and "共 1 项" in listed


def test_existing_section_accounts_get_the_grants_to_work_on_their_report(plan, make_user):
    staff = make_user("sheguan_staff", "section_staff", "社管科")
    roles.unit_grants(staff).filter(permission__codename=roles.WORK).delete()  # as made before the reports
    migration = importlib.import_module("assignments.migrations.0005_section_reports")
    migration.grant_section_work(django_apps, None)
    roles.forget(staff)
    assert Unit.objects.get(name="社管科").pk in roles.principal(staff).units_with(roles.WORK)


def test_the_coordinators_chief_issues_the_reports_from_the_rounds_page(
    client, plan, section_chief, other_section_chief
):
    client.force_login(other_section_chief)
    assert "reports" not in client.get("/assignments/rounds/").context["form"].fields
    client.force_login(section_chief)
    assert "reports" in client.get("/assignments/rounds/").context["form"].fields
    measure = Measure.objects.get(number=7).pk
    client.post("/assignments/rounds/", {"year": 2024, "measures": [measure]})
    assert not Assignment.objects.reports().exists()  # unticked
    client.post("/assignments/rounds/", {"year": 2024, "measures": [measure], "reports": "on"})
    assert Assignment.objects.reports().count() == 4


@pytest.fixture
def second_coordinator_chief(make_user, second_plan):
    return make_user("yanglao_chief", "section_chief", "养老科")  # coordinates the second plan only


def test_a_plans_coordinator_has_no_coordinator_powers_in_another_plan(
    plan, second_plan, second_coordinator_chief, section_chief
):
    first_measure = plan.measures.get(number=1)  # led by 基政科
    assert not can_issue(second_coordinator_chief, first_measure)
    with pytest.raises(actions.NotAllowed):
        rounds.open_round(2024, plan=plan, by=second_coordinator_chief)
    with pytest.raises(actions.NotAllowed):
        rounds.open_round(2024, plan=plan, by=second_coordinator_chief, measures=[first_measure], reports=False)
    rounds.open_round(2024, plan=plan, measures=[plan.measures.get(number=7)], reports=True)
    assert not visible_to(second_coordinator_chief).filter(round__plan=plan).exists()
    # and 基政科, the first plan's coordinator, is one section among others in the second plan
    assert not can_issue(section_chief, second_plan.measures.get(number=1))  # led by 养老科
    assert can_issue(section_chief, second_plan.measures.get(number=2))  # led by 基政科
    assert not can_issue_reports(section_chief, second_plan) and can_issue_reports(
        second_coordinator_chief, second_plan
    )
    round_, _ = rounds.open_round(2026, plan=second_plan, by=second_coordinator_chief)
    (report,) = round_.assignments.reports()
    assert (report.unit.name, report.lead_section.name) == ("基政科", "养老科")
    assert visible_to(section_chief).filter(round=round_).count() == 1 + 3  # its report and measure 2's rows
    assert available_actions(section_chief, report) == ["start", "reassign"]
