"""The lights: green on track, yellow within DUE_WARNING_DAYS working days of the due date, red overdue
and not handed in; none once accepted or cancelled. Computed in SQL, shown and filtered on the pages and
in the API. The 2024 round of measure 7 is due on Thursday 2024-10-31."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assignments.models import Assignment
from workflows import deadlines
from workflows.models import CalendarOverride

from .conftest import Walker, fresh

D = datetime.date
DUE = D(2024, 10, 31)


def light(assignment, on):
    return deadlines.with_lights(Assignment.objects.filter(pk=assignment.pk), on=on).get().light


@pytest.fixture
def other_walk(other_county_clerk, section_chief):
    return Walker(other_county_clerk, section_chief)


@pytest.fixture
def on(monkeypatch):
    """Fix "today" for the pages and the API."""

    def fix(day):
        monkeypatch.setattr(deadlines, "today", lambda: day)

    return fix


def test_the_round_is_due_on_the_thirty_first(assignment):
    assert assignment.due == DUE


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2024, 10, 23), "green"),  # six working days before: 24, 25, 28, 29, 30, 31
        (D(2024, 10, 24), "yellow"),  # five working days before: the window's first day
        (D(2024, 10, 30), "yellow"),
        (D(2024, 10, 31), "yellow"),  # due today
        (D(2024, 11, 1), "red"),  # the day after
    ],
    ids=str,
)
def test_an_issued_assignment_turns_yellow_five_working_days_before_and_red_the_day_after(assignment, today, expected):
    assert light(assignment, today) == expected


def test_the_window_counts_working_days_so_a_holiday_widens_it(assignment):
    # From 2024-09-29 (a 调休 Sunday) five working days reach past the national day week: 9-30, 10-8 … 10-11.
    Assignment.objects.filter(pk=assignment.pk).update(due=D(2024, 10, 11))
    assert light(assignment, D(2024, 9, 29)) == "yellow"
    assert light(assignment, D(2024, 9, 28)) == "green"  # 9-29, 9-30, 10-8, 10-9, 10-10: the 11th is the sixth


def test_the_window_follows_the_bureaus_overrides(assignment):
    assert light(assignment, D(2024, 10, 23)) == "green"
    CalendarOverride.objects.create(date=D(2024, 10, 25), working=False)
    assert light(assignment, D(2024, 10, 23)) == "yellow"


def test_the_window_is_a_setting(assignment, settings):
    settings.DUE_WARNING_DAYS = 10
    assert light(assignment, D(2024, 10, 17)) == "yellow"
    settings.DUE_WARNING_DAYS = 1
    assert light(assignment, D(2024, 10, 29)) == "green"
    assert light(assignment, D(2024, 10, 30)) == "yellow"


def test_in_progress_and_returned_reports_turn_red_when_late(other_walk, assignment, other_county_assignment, walk):
    a = walk.to(assignment, "in_progress")
    b = other_walk.to(other_county_assignment, "returned")
    assert (light(a, D(2024, 11, 1)), light(b, D(2024, 11, 1))) == ("red", "red")


def test_a_report_handed_in_is_green_even_after_the_due_date(other_walk, assignment, other_county_assignment, walk):
    a = walk.to(assignment, "submitted")
    b = other_walk.to(other_county_assignment, "under_review")
    assert (light(a, D(2024, 11, 20)), light(b, D(2024, 11, 20))) == ("green", "green")
    assert (light(a, D(2024, 10, 30)), light(b, D(2024, 10, 30))) == ("green", "green")


def test_accepted_and_cancelled_assignments_have_no_light(other_walk, assignment, other_county_assignment, walk):
    a = walk.to(assignment, "accepted")
    b = other_walk.to(other_county_assignment, "cancelled")
    for today in (D(2024, 10, 1), D(2024, 10, 30), D(2024, 11, 1)):
        assert (light(a, today), light(b, today)) == (None, None)


def test_the_list_shows_each_light_and_filters_by_it(
    other_walk, client, assignment, other_county_assignment, walk, section_chief, on
):
    walk.to(assignment, "in_progress")
    other_walk.to(other_county_assignment, "submitted")
    on(D(2024, 11, 4))
    client.force_login(section_chief)
    response = client.get(reverse("assignments:index"), {"year": 2024, "light": "red"})
    rows = list(response.context["page"])
    assert assignment in rows and other_county_assignment not in rows
    assert all(row.light == "red" for row in rows)
    content = response.content.decode()
    assert "红灯 已逾期" in content and "逾期 4 天" in content and "duban-light--red" in content
    green = list(client.get(reverse("assignments:index"), {"year": 2024, "light": "green"}).context["page"])
    assert other_county_assignment in green and assignment not in green


def test_the_to_do_list_shows_the_light_and_the_working_days_left(client, assignment, county_clerk, on):
    on(D(2024, 10, 28))
    client.force_login(county_clerk)
    content = client.get(reverse("assignments:index"), {"todo": "on"}).content.decode()
    assert "黄灯 临近期限" in content and "还剩 3 个工作日" in content


def test_the_assignment_page_shows_the_light(client, assignment, county_clerk, on):
    client.force_login(county_clerk)
    on(D(2024, 10, 1))
    content = client.get(reverse("assignments:detail", args=[assignment.pk])).content.decode()
    assert "绿灯 正常" in content and "还剩 19 个工作日" in content  # 10-08 … 10-31, the 调休 Saturday 10-12 too
    on(D(2024, 10, 31))
    assert "今天到期" in client.get(reverse("assignments:detail", args=[assignment.pk])).content.decode()


def test_the_assignment_page_of_an_accepted_one_shows_no_light(client, assignment, walk, county_clerk, on):
    walk.to(assignment, "accepted")
    client.force_login(county_clerk)
    on(D(2024, 11, 4))
    content = client.get(reverse("assignments:detail", args=[fresh(assignment).pk])).content.decode()
    assert "duban-light" not in content


@pytest.fixture
def api_as(db):
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def test_the_api_lists_and_filters_by_light(
    other_walk, api_as, assignment, other_county_assignment, walk, section_chief, on
):
    other_walk.to(other_county_assignment, "accepted")
    on(D(2024, 11, 1))
    client = api_as(section_chief)
    rows = client.get("/api/v1/assignments/", {"round": 2024, "light": "red", "page_size": 200}).json()["results"]
    assert assignment.pk in {row["id"] for row in rows}
    assert {(row["light"], row["light_label"]) for row in rows} == {("red", "红灯 已逾期")}
    detail = client.get(f"/api/v1/assignments/{other_county_assignment.pk}/").json()
    assert (detail["light"], detail["light_label"]) == (None, None)


def test_the_api_refuses_an_unknown_light_in_chinese(api_as, assignment, section_chief):
    response = api_as(section_chief).get("/api/v1/assignments/", {"light": "blue"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "未知期限灯“blue”" in response.json()["detail"]


def test_the_schema_documents_the_light_filter(api_as, section_chief):
    schema = api_as(section_chief).get("/api/schema/", {"format": "json"})
    text = schema.content.decode()
    assert '"light"' in text and "yellow" in text
