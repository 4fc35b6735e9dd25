"""The working calendar: national holidays and 调休 from chinesecalendar, the bureau's overrides, the
fallback for a year the package does not know, and the due dates a round is opened with."""

import datetime
import logging
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.urls import reverse

from assignments.models import Assignment, Measure, Plan
from workflows import calendar, rounds
from workflows.models import CalendarOverride

D = datetime.date
GOLDEN_WEEK = [D(2024, 10, day) for day in range(1, 8)]


@pytest.mark.parametrize("day", GOLDEN_WEEK, ids=lambda day: day.isoformat())
def test_a_day_of_the_national_day_holiday_moves_to_the_eighth_of_october(db, day):
    assert not calendar.is_working_day(day)
    assert calendar.next_working_day(day) == D(2024, 10, 8)


def test_the_tiaoxiu_saturday_after_the_national_day_is_a_working_day_and_stays(db):
    assert D(2024, 10, 12).weekday() == 5
    assert calendar.is_working_day(D(2024, 10, 12))
    assert calendar.next_working_day(D(2024, 10, 12)) == D(2024, 10, 12)


def test_an_ordinary_weekday_stays_and_an_ordinary_sunday_moves_to_monday(db):
    assert calendar.next_working_day(D(2024, 10, 31)) == D(2024, 10, 31)  # a Thursday
    assert calendar.next_working_day(D(2024, 10, 13)) == D(2024, 10, 14)


def test_an_override_making_the_eighth_a_rest_day_moves_the_holiday_on_to_the_ninth(db):
    CalendarOverride.objects.create(date=D(2024, 10, 8), working=False, note="局机关调休")
    assert calendar.next_working_day(D(2024, 10, 3)) == D(2024, 10, 9)


def test_an_override_makes_a_holiday_a_working_day(db):
    CalendarOverride.objects.create(date=D(2024, 10, 7), working=True, note="值班")
    assert calendar.next_working_day(D(2024, 10, 3)) == D(2024, 10, 7)


def test_working_days_between_counts_the_days_after_the_first_up_to_the_last(db):
    # 9-30 (Mon) → 10-12: the holiday week is not counted, the 调休 Saturday is
    assert calendar.working_days_between(D(2024, 9, 30), D(2024, 10, 12)) == 5  # 8, 9, 10, 11, 12
    assert calendar.working_days_between(D(2024, 10, 12), D(2024, 9, 30)) == -5
    assert calendar.working_days_between(D(2024, 10, 8), D(2024, 10, 8)) == 0
    assert calendar.add_working_days(D(2024, 9, 29), 2) == D(2024, 10, 8)  # 9-29 is a 调休 Sunday: 9-30, 10-8


def test_a_year_the_package_does_not_know_counts_weekends_only_and_says_so(db, caplog):
    year = 2030
    assert not calendar.is_known(year) and calendar.is_known(2024)
    assert calendar.unknown_note(year) == "2030 年的法定节假日尚未收录,按周末计算"
    assert calendar.unknown_note(2024) == ""
    with caplog.at_level(logging.WARNING, logger="duban.calendar"):
        assert calendar.is_working_day(D(year, 10, 1))  # a Tuesday: 国庆 is not known that year
        assert calendar.next_working_day(D(year, 10, 5)) == D(year, 10, 7)  # Saturday → Monday
    assert "2030 年的法定节假日尚未收录" in caplog.text


def test_the_overrides_are_in_the_admin_with_chinese_labels(admin_client, db):
    CalendarOverride.objects.create(date=D(2024, 10, 8), working=False, note="局机关调休")
    assert CalendarOverride in site._registry
    page = admin_client.get("/admin/workflows/calendaroverride/").content.decode()
    assert "工作日调整" in page and "局机关调休" in page and "星期二" in page and "国家日历" in page


def _due(round_, code, county="离石区"):
    return Assignment.objects.get(round=round_, item__code=code, unit__name=county).due


def test_a_round_whose_report_day_falls_in_the_holiday_is_due_on_the_eighth(plan):
    Plan.objects.update(report_month=10, report_day=3)
    round_, created = rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    assert created and _due(round_, "7a") == D(2024, 10, 8)
    assert set(round_.assignments.values_list("due", flat=True)) == {D(2024, 10, 8)}


def test_a_round_due_on_the_tiaoxiu_saturday_stays_on_it(plan):
    Plan.objects.update(report_month=10, report_day=12)
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    assert _due(round_, "7a") == D(2024, 10, 12)


def test_a_round_due_on_the_thirty_first_of_october_2024_stays_on_it(plan):
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    assert _due(round_, "7a") == D(2024, 10, 31)


def test_the_bureaus_override_moves_a_round_due_in_the_holiday_on_to_the_ninth(plan):
    CalendarOverride.objects.create(date=D(2024, 10, 8), working=False)
    Plan.objects.update(report_month=10, report_day=5)
    round_, _ = rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    assert _due(round_, "7a") == D(2024, 10, 9)


def test_an_items_own_deadline_on_new_years_eve_sunday_moves_past_new_years_day(plan):
    # 4a is due "2023年底": 2023-12-31 is a Sunday, 2024-01-01 元旦
    round_, _ = rounds.open_round(2023, measures=[Measure.objects.get(number=4)])
    assert _due(round_, "4a") == D(2024, 1, 2)
    assert set(round_.assignments.filter(item__code="4a").values_list("due", flat=True)) == {D(2024, 1, 2)}


def test_opening_a_round_in_a_year_the_package_lacks_counts_weekends_and_says_so(plan, monkeypatch):
    national = calendar.chinese_calendar.is_workday

    def lacking_2024(day):
        if day.year == 2024:
            raise NotImplementedError("no available data for year 2024")
        return national(day)

    monkeypatch.setattr(calendar.chinese_calendar, "is_workday", lacking_2024)
    Plan.objects.update(report_month=10, report_day=5)  # a Saturday, in the (unknown) holiday
    out = StringIO()
    call_command("open_round", "2024", stdout=out)
    assert "注意:2024 年的法定节假日尚未收录,按周末计算" in out.getvalue()
    round_ = Assignment.objects.filter(round__year=2024).first().round
    assert _due(round_, "7a") == D(2024, 10, 7)  # the Monday: weekends only


def test_the_rounds_page_says_which_plan_years_count_weekends_only(client, plan, section_chief, monkeypatch):
    national = calendar.chinese_calendar.is_workday

    def lacking_2025(day):
        if day.year == 2025:
            raise NotImplementedError("no available data for year 2025")
        return national(day)

    client.force_login(section_chief)
    assert "尚未收录" not in client.get(reverse("assignments:rounds")).content.decode()
    monkeypatch.setattr(calendar.chinese_calendar, "is_workday", lacking_2025)
    assert "2025 年的法定节假日尚未收录,按周末计算" in client.get(reverse("assignments:rounds")).content.decode()
