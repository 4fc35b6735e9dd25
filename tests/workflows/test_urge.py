"""Urging (催办) and acknowledging (签收): the lead section's chief, or the plan's coordinating section's
chief, urges an assignment its unit still owes; the unit acknowledges every open urging at once. Both
are events; another county never sees an urging of another county."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assignments.models import Assignment, Measure, Unit
from workflows import actions, rounds, urgings
from workflows.models import Event, Urging

from .conftest import YEAR, fresh, snapshot

LATE = datetime.date(2024, 11, 5)  # the 2024 round is due on 2024-10-31: every owed report is red


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def urge(a, user, message="请于本周内报送"):
    return actions.urge(a, by=user, version=fresh(a).version, message=message)


def test_the_lead_sections_chief_urges_with_a_message_an_event_and_an_open_urging(assignment, section_chief):
    a = urge(assignment, section_chief)
    assert (a.state, a.version) == ("assigned", 2)
    event = Event.objects.filter(assignment=a).order_by("-sequence").first()
    assert (event.action, event.get_action_display(), event.comment, event.unit_name) == (
        "urge", "催办", "请于本周内报送", "基政科",
    )  # fmt: skip
    urging = Urging.objects.get(assignment=a)
    assert (urging.event_id, urging.message, urging.by, urging.acknowledged_at) == (
        event.pk, "请于本周内报送", section_chief, None,
    )  # fmt: skip


def test_a_message_is_required(assignment, section_chief):
    before = snapshot(assignment)
    with pytest.raises(actions.Invalid, match="催办必须填写催办内容"):
        actions.urge(assignment, by=section_chief, version=1, message=" \u3000")
    assert snapshot(assignment) == before
    assert not Urging.objects.exists()


@pytest.mark.parametrize("who", ["county_clerk", "other_section_chief", "leader", "section_staff"])
def test_only_the_lead_sections_chief_or_the_coordinator_may_urge(request, assignment, who):
    with pytest.raises(actions.NotAllowed, match="催办"):
        actions.urge(assignment, by=request.getfixturevalue(who), version=1, message="快报")
    assert not Urging.objects.exists()


def test_the_coordinating_sections_chief_urges_a_measure_another_section_leads(
    plan, section_chief, other_section_chief
):
    measure = Measure.objects.filter(plan=plan).exclude(measure_sections__unit__name="基政科").first()
    round_, _ = rounds.open_round(YEAR, measures=[measure])
    a = Assignment.objects.filter(round=round_, item__measure=measure).first()
    assert a.lead_section.name != "基政科"
    urged = actions.urge(a, by=section_chief, version=1, message="请抓紧")  # 基政科 coordinates the plan
    assert Event.objects.filter(assignment=urged, action="urge").get().unit_name == "基政科"


def test_what_is_handed_in_is_not_urged_and_a_stale_version_is_refused(assignment, walk, section_chief):
    urge(assignment, section_chief)
    with pytest.raises(actions.Conflict):
        actions.urge(assignment, by=section_chief, version=1, message="再催")
    submitted = walk.to(fresh(assignment), "submitted")
    with pytest.raises(actions.Conflict, match="不能催办"):
        urge(submitted, section_chief)


def test_the_county_acknowledges_every_open_urging_at_once_and_the_urger_sees_it(
    assignment, section_chief, county_head
):
    urge(assignment, section_chief, "第一次")
    urge(assignment, section_chief, "第二次")
    a = actions.acknowledge(assignment, by=county_head, version=fresh(assignment).version)
    event = Event.objects.filter(assignment=a).order_by("-sequence").first()
    assert (event.action, event.get_action_display(), event.snapshot, event.unit_name) == (
        "acknowledge", "签收", {"urgings": 2}, "离石区",
    )  # fmt: skip
    assert set(Urging.objects.values_list("acknowledged_by", "acknowledge_event")) == {(county_head.pk, event.pk)}
    assert list(urgings.open_for(section_chief)) == []


def test_without_an_open_urging_there_is_nothing_to_acknowledge(assignment, county_clerk, section_chief):
    with pytest.raises(actions.Conflict, match="没有待签收的催办"):
        actions.acknowledge(assignment, by=county_clerk, version=1)
    assert "acknowledge" not in actions_for(county_clerk, assignment)
    urge(assignment, section_chief)
    assert "acknowledge" in actions_for(county_clerk, fresh(assignment))


def actions_for(user, a):
    from permissions.checks import available_actions

    return available_actions(user, a)


def test_another_county_may_not_acknowledge(assignment, section_chief, other_county_clerk):
    urge(assignment, section_chief)
    with pytest.raises(actions.NotAllowed):
        actions.acknowledge(assignment, by=other_county_clerk, version=2)


def test_every_late_assignment_of_a_county_is_urged_at_once_each_with_its_event(
    round_2024, section_chief, other_county_assignment
):
    county = Unit.objects.get(name="离石区")
    owed = Assignment.objects.filter(round=round_2024, unit=county)
    urged = urgings.urge_late(round_2024, by=section_chief, message="请报送", unit=county, on=LATE)
    assert {a.pk for a in urged} == set(owed.values_list("pk", flat=True)) and urged
    assert Event.objects.filter(action="urge").count() == len(urged)
    assert not Urging.objects.filter(assignment=other_county_assignment).exists()


def test_a_bulk_urging_before_the_due_date_finds_nothing_late(round_2024, section_chief):
    county = Unit.objects.get(name="离石区")
    with pytest.raises(actions.Invalid, match="没有可由你催办的逾期事项"):
        urgings.urge_late(round_2024, by=section_chief, message="请报送", unit=county, on=datetime.date(2024, 10, 1))
    assert not Urging.objects.exists()


def test_every_late_assignment_of_a_measure_is_urged_and_others_may_not(round_2024, section_chief, county_clerk):
    measure = Measure.objects.get(number=7)
    urged = urgings.urge_late(round_2024, by=section_chief, message="请报送", measure=measure, on=LATE)
    assert len({a.unit_id for a in urged}) == 13
    with pytest.raises(actions.NotAllowed):
        urgings.urge_late(round_2024, by=county_clerk, message="请报送", measure=measure, on=LATE)


def test_the_api_urges_a_county_and_the_county_acknowledges_through_its_action(
    round_2024, monkeypatch, section_chief, county_clerk, assignment
):
    from workflows import deadlines

    monkeypatch.setattr(deadlines, "today", lambda: LATE)
    response = api_for(section_chief).post(
        f"/api/v1/rounds/{YEAR}/urge/", {"unit": "离石区", "message": "请报送"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert assignment.pk in response.json()["urged"]
    bad = api_for(section_chief).post(f"/api/v1/rounds/{YEAR}/urge/", {"message": "请报送"}, format="json")
    assert bad.status_code == 400
    version = fresh(assignment).version
    ack = api_for(county_clerk).post(
        f"/api/v1/assignments/{assignment.pk}/actions/acknowledge/", {"version": version}, format="json"
    )
    assert ack.status_code == 200, ack.json()
    assert not Urging.objects.filter(assignment=assignment, acknowledged_at=None).exists()


def test_another_county_never_sees_an_urging_in_the_list_the_page_or_the_api(
    client, assignment, other_county_assignment, section_chief, county_clerk, other_county_clerk
):
    urge(assignment, section_chief, "离石区请速报")
    assert list(urgings.open_for(other_county_clerk)) == []
    assert [u.assignment_id for u in urgings.open_for(county_clerk)] == [assignment.pk]
    client.force_login(other_county_clerk)
    for url in (reverse("assignments:index"), reverse("assignments:urgings")):
        assert "离石区请速报" not in client.get(url).content.decode()
    assert client.get(reverse("assignments:detail", args=[assignment.pk])).status_code == 404
    events = api_for(other_county_clerk).get(f"/api/v1/assignments/{assignment.pk}/events/")
    assert events.status_code == 404
    client.force_login(county_clerk)
    page = client.get(reverse("assignments:index")).content.decode()
    assert "待签收的催办(1)" in page and "离石区请速报" in page


def test_the_office_sees_how_long_each_urging_has_waited(client, assignment, section_chief, leader, monkeypatch):
    from workflows import deadlines

    urge(assignment, section_chief, "请速报")
    Urging.objects.update(at=datetime.datetime(2024, 11, 1, 9, tzinfo=datetime.UTC))  # a Friday
    monkeypatch.setattr(deadlines, "today", lambda: datetime.date(2024, 11, 5))  # the Tuesday after
    (waiting,) = urgings.waiting(leader)
    assert (waiting.days, waiting.working_days) == (4, 2)
    client.force_login(leader)
    page = client.get(reverse("assignments:urgings")).content.decode()
    assert "请速报" in page and "4 天(2 个工作日)" in page


def test_the_page_urges_a_county_from_the_rounds_page(client, round_2024, section_chief, monkeypatch):
    from workflows import deadlines

    monkeypatch.setattr(deadlines, "today", lambda: LATE)
    client.force_login(section_chief)
    page = client.get(reverse("assignments:rounds")).content.decode()
    assert "催办逾期事项" in page
    response = client.post(reverse("assignments:urge"), {"year": YEAR, "unit": "兴县", "message": "请报送"})
    assert response.status_code == 302
    assert Urging.objects.filter(assignment__unit__name="兴县").count() > 0
    assert not Urging.objects.exclude(assignment__unit__name="兴县").exists()
