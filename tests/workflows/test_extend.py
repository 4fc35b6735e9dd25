"""Extending due dates (延期): the lead section's chief moves one assignment's due date later, or every
open one of a county in a round, with a reason; each extension is an event recording both dates."""

import datetime
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assignments.models import Assignment, Measure, Unit
from workflows import actions, deadlines
from workflows.models import Event

from .conftest import fresh, snapshot

D = datetime.date
LATER = D(2024, 11, 15)  # a Friday


@pytest.fixture
def api_as(db):
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def extend_url(a):
    return f"/api/v1/assignments/{a.pk}/actions/extend/"


def test_the_lead_sections_chief_extends_a_due_date_with_a_reason_and_the_event_records_both_dates(
    assignment, section_chief
):
    a = actions.extend(assignment, by=section_chief, version=1, due=LATER, reason="汛期影响调查进度")
    a = fresh(a)
    assert (a.due, a.version, a.state) == (LATER, 2, "assigned")
    event = Event.objects.filter(assignment=a).order_by("-sequence").first()
    assert (event.action, event.get_action_display(), event.comment) == ("extend", "延期", "汛期影响调查进度")
    assert event.snapshot == {"from": "2024-10-31", "to": "2024-11-15"}
    assert (event.from_state, event.to_state, event.unit_name) == ("assigned", "assigned", "基政科")


@pytest.mark.parametrize("who", ["county_clerk", "other_section_chief", "leader", "section_staff"])
def test_only_the_lead_sections_chief_may_extend(request, assignment, who):
    before = snapshot(assignment)
    with pytest.raises(actions.NotAllowed):
        actions.extend(assignment, by=request.getfixturevalue(who), version=1, due=LATER, reason="理由")
    assert snapshot(assignment) == before


def test_a_reason_is_required(assignment, section_chief):
    with pytest.raises(actions.Invalid, match="延期必须填写理由"):
        actions.extend(assignment, by=section_chief, version=1, due=LATER, reason=" \u3000")
    assert fresh(assignment).due == D(2024, 10, 31)


@pytest.mark.parametrize("due", [D(2024, 10, 31), D(2024, 10, 30)], ids=str)
def test_the_new_date_must_be_later(assignment, section_chief, due):
    with pytest.raises(actions.Invalid, match="须晚于现在的期限 2024年10月31日"):
        actions.extend(assignment, by=section_chief, version=1, due=due, reason="理由")


def test_the_new_date_must_be_a_working_day(assignment, section_chief):
    with pytest.raises(actions.Invalid, match=re.escape("2024年11月16日是休息日,请选择工作日(如 2024年11月18日)")):
        actions.extend(assignment, by=section_chief, version=1, due=D(2024, 11, 16), reason="理由")


def test_a_stale_version_is_refused(assignment, section_chief):
    actions.extend(assignment, by=section_chief, version=1, due=LATER, reason="理由")
    with pytest.raises(actions.Conflict):
        actions.extend(assignment, by=section_chief, version=1, due=D(2024, 11, 29), reason="理由")


def test_accepted_and_cancelled_assignments_are_not_extended(assignment, other_county_assignment, walk, section_chief):
    a = walk.to(assignment, "cancelled")
    with pytest.raises(actions.Conflict, match="不能延期"):
        actions.extend(a, by=section_chief, version=a.version, due=LATER, reason="理由")


def test_the_api_extends_with_an_iso_date(api_as, assignment, section_chief):
    response = api_as(section_chief).post(
        extend_url(assignment), {"version": 1, "due": "2024-11-15", "reason": "理由"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["due"], response.json()["version"]) == ("2024-11-15", 2)


@pytest.mark.parametrize("due", ["2024-11-5", "20241115", "2024-11-15T00:00:00", 20241115, None, "2024-02-30"])
def test_the_api_takes_only_a_strict_iso_date(api_as, assignment, section_chief, due):
    response = api_as(section_chief).post(
        extend_url(assignment), {"version": 1, "due": due, "reason": "理由"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("due:")
    assert fresh(assignment).version == 1


def test_the_api_answers_403_to_others_and_404_for_another_countys_id(
    api_as, assignment, other_county_assignment, county_clerk, other_section_chief, leader
):
    body = {"version": 1, "due": "2024-11-15", "reason": "理由"}
    for user in (county_clerk, other_section_chief, leader):
        response = api_as(user).post(extend_url(assignment), body, format="json")
        assert response.status_code == 403 and "延期" in response.json()["detail"]
    assert api_as(county_clerk).post(extend_url(other_county_assignment), body, format="json").status_code == 404


def test_the_api_refuses_a_missing_reason_and_an_earlier_date(api_as, assignment, section_chief):
    client = api_as(section_chief)
    no_reason = client.post(extend_url(assignment), {"version": 1, "due": "2024-11-15"}, format="json")
    assert no_reason.status_code == 400 and "理由" in no_reason.json()["detail"]
    earlier = client.post(extend_url(assignment), {"version": 1, "due": "2024-10-30", "reason": "理由"}, format="json")
    assert earlier.status_code == 400 and "须晚于现在的期限" in earlier.json()["detail"]


def test_the_page_offers_the_extension_to_the_chief_and_takes_it(client, assignment, section_chief, county_clerk):
    client.force_login(county_clerk)
    assert "actions/extend/" not in client.get(reverse("assignments:detail", args=[assignment.pk])).content.decode()
    client.force_login(section_chief)
    page = client.get(reverse("assignments:detail", args=[assignment.pk])).content.decode()
    assert "actions/extend/" in page and 'type="date"' in page
    url = reverse("assignments:act", args=[assignment.pk, "extend"])
    response = client.post(url, {"version": 1, "due": "2024-11-15", "reason": "理由"})
    assert response.status_code == 302 and fresh(assignment).due == LATER
    refused = client.post(url, {"version": 2, "due": "2024-11-01", "reason": "理由"})
    assert refused.status_code == 400 and "须晚于现在的期限 2024年11月15日" in refused.content.decode()


# --- a county at once


def _county_rows(round_, county):
    return Assignment.objects.filter(round=round_, unit__name=county)


def test_a_chief_extends_every_open_assignment_of_a_county_that_their_section_leads(
    round_2024, assignment, walk, section_chief
):
    accepted = walk.to(assignment, "accepted")
    county = Unit.objects.get(name="离石区")
    open_rows = list(_county_rows(round_2024, "离石区").exclude(pk=accepted.pk))
    others = {row.pk: row.due for row in Assignment.objects.filter(round=round_2024).exclude(unit=county)}
    extended = deadlines.extend_unit(round_2024, county, by=section_chief, due=LATER, reason="统一延期")
    assert {row.pk for row in extended} == {row.pk for row in open_rows if row.lead_section.name == "基政科"}
    assert extended and all(fresh(row).due == LATER for row in extended)
    assert fresh(accepted).due == D(2024, 10, 31)
    assert {row.pk: row.due for row in Assignment.objects.filter(round=round_2024).exclude(unit=county)} == others
    events = Event.objects.filter(action="extend")
    assert events.count() == len(extended)
    assert {event.snapshot["to"] for event in events} == {"2024-11-15"}


def test_a_county_extension_refuses_everything_or_nothing(round_2024, assignment, section_chief):
    county = Unit.objects.get(name="离石区")
    with pytest.raises(actions.Invalid, match="是休息日"):
        deadlines.extend_unit(round_2024, county, by=section_chief, due=D(2024, 11, 16), reason="理由")
    assert not Event.objects.filter(action="extend").exists()


def test_a_county_extension_by_someone_who_leads_nothing_there_is_refused(round_2024, county_clerk, leader):
    county = Unit.objects.get(name="离石区")
    for user in (county_clerk, leader):
        with pytest.raises(actions.NotAllowed):
            deadlines.extend_unit(round_2024, county, by=user, due=LATER, reason="理由")


def test_the_api_extends_a_county_and_may_name_a_measure(api_as, round_2024, section_chief, county_clerk):
    body = {"county": "兴县", "measure": 7, "due": "2024-11-15", "reason": "统一延期"}
    assert api_as(county_clerk).post("/api/v1/rounds/2024/extend/", body, format="json").status_code == 403
    response = api_as(section_chief).post("/api/v1/rounds/2024/extend/", body, format="json")
    assert response.status_code == 200, response.json()
    ids = set(response.json()["extended"])
    expected = _county_rows(round_2024, "兴县").filter(item__measure=Measure.objects.get(number=7))
    assert ids == set(expected.filter(lead_section__name="基政科").values_list("pk", flat=True)) and ids
    assert set(Assignment.objects.filter(due=LATER).values_list("pk", flat=True)) == ids
    bad = api_as(section_chief).post("/api/v1/rounds/2024/extend/", {**body, "reason": ""}, format="json")
    assert bad.status_code == 400 and "理由" in bad.json()["detail"]
    assert api_as(section_chief).post("/api/v1/rounds/2030/extend/", body, format="json").status_code == 404


def test_the_rounds_page_extends_a_county_for_a_chief(client, round_2024, section_chief, county_clerk):
    client.force_login(county_clerk)
    assert "延期一个报送单位的报送期限" not in client.get(reverse("assignments:rounds")).content.decode()
    assert client.post(reverse("assignments:extend"), {}).status_code == 403
    client.force_login(section_chief)
    assert "延期一个报送单位的报送期限" in client.get(reverse("assignments:rounds")).content.decode()
    data = {"year": 2024, "unit": "兴县", "measure": "", "due": "2024-11-15", "reason": "统一延期"}
    response = client.post(reverse("assignments:extend"), data, follow=True)
    assert "已将兴县 2024 年度的" in response.content.decode()
    assert _county_rows(round_2024, "兴县").filter(due=LATER).exists()
