import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from viewflow.workflow.models import Process, Task

from assignments.models import Assignment, Measure, Round, WorkItem
from workflows import actions, rounds
from workflows.models import Event


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_opening_a_round_issues_every_active_item_to_every_county_and_the_sections_reports(plan):
    output = run("open_round", "2024")
    active = WorkItem.objects.filter(first_year__lte=2024, last_year__gte=2024).count()
    assert active == 42  # 4a ends with 2023, 14b is 2022 only
    total = active * 13 + 4  # and the reports of 社管科, 社事科, 救助科 and 区划科
    assert Assignment.objects.exclude(item=None).count() == active * 13
    assert Assignment.objects.reports().count() == 4
    assert f"新建督办事项 {total} 个" in output
    assert not Assignment.objects.filter(item__code__in=["4a", "14b"]).exists()
    assert Event.objects.filter(action="issue").count() == total
    assert Process.objects.count() == total
    assert Task.objects.filter(flow_task_type="HUMAN", status="NEW").count() == total


def test_opening_twice_creates_nothing_new(plan):
    run("open_round", "2023")
    before = (Assignment.objects.count(), Event.objects.count(), Task.objects.count())
    output = run("open_round", "2023")
    assert "未新建" in output
    assert (Assignment.objects.count(), Event.objects.count(), Task.objects.count()) == before


def test_due_dates_follow_the_report_day_or_the_items_own_deadline(plan):
    run("open_round", "2023")
    # 4a is due "2023年底": Sunday 2023-12-31, then 元旦 2024-01-01: the next working day
    assert {a.due for a in Assignment.objects.filter(item__code="4a")} == {datetime.date(2024, 1, 2)}
    assert {a.due for a in Assignment.objects.exclude(item__code="4a")} == {datetime.date(2023, 10, 31)}
    run("open_round", "2022")
    assert {a.due for a in Assignment.objects.filter(item__code="4a", round__year=2022)} == {
        datetime.date(2022, 10, 31)
    }
    assert Assignment.objects.filter(item__code="14b", round__year=2022).count() == 13


def test_each_assignment_is_led_by_its_rows_first_section(plan):
    run("open_round", "2024")
    rows = Assignment.objects.exclude(item=None).select_related("item", "lead_section")
    leads = {(a.item.code, a.lead_section.name) for a in rows}
    assert ("18b", "社管科") in leads and ("19a", "基政科") in leads and ("3a", "社管科") in leads


@pytest.mark.parametrize("year", ["2021", "2026"])
def test_a_year_outside_the_plan_is_refused(plan, year):
    with pytest.raises(CommandError, match="不在计划年度"):
        run("open_round", year)
    assert not Round.objects.exists()


def test_a_section_chief_issues_the_measures_their_section_leads(plan, other_section_chief, section_chief):
    round_, created = rounds.open_round(2024, by=other_section_chief)  # 社管科 leads measures 3 and 18
    assert {a.item.measure.number for a in Assignment.objects.all()} == {3, 18}
    assert created == 4 * 13
    issue = Event.objects.filter(action="issue").first()
    assert (issue.actor, issue.unit_name) == (other_section_chief, "社管科")
    with pytest.raises(actions.NotAllowed, match="第 1 项"):
        rounds.open_round(2024, by=other_section_chief, measures=[Measure.objects.get(number=1)])
    _, created = rounds.open_round(2024, by=section_chief)  # the coordinating section: all the rest, and the reports
    assert Assignment.objects.count() == 42 * 13 + 4


def test_people_who_are_not_chiefs_cannot_open_a_round(
    plan, county_clerk, county_head, section_staff, co_section_staff, leader, auditor
):
    for user in (county_clerk, county_head, section_staff, co_section_staff, leader, auditor):
        with pytest.raises(actions.NotAllowed):
            rounds.open_round(2024, by=user)
    assert not Assignment.objects.exists()


def test_open_round_by_an_unknown_user_is_refused(plan):
    with pytest.raises(CommandError, match="没有名为"):
        run("open_round", "2024", "--by", "ghost")
