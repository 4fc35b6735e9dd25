"""The history is append-only, chained, and verifiable."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from workflows import actions, history
from workflows.models import Event

from .conftest import fresh


def verify():
    out = StringIO()
    call_command("verify_history", stdout=out)
    return out.getvalue()


@pytest.fixture
def walked(assignment, walk, other_county_assignment, other_county_clerk):
    """Two assignments with some history."""
    walk.to(assignment, "accepted")
    actions.start(other_county_assignment, by=other_county_clerk, version=1)
    return fresh(assignment)


def test_each_event_is_chained_to_the_previous_one_of_its_assignment(walked):
    events = list(Event.objects.filter(assignment=walked).order_by("sequence"))
    assert events[0].prev_hash == ""
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert walked.last_hash == events[-1].hash and walked.event_count == len(events)


def test_verify_history_counts_an_intact_history(walked):
    output = verify()
    assert "历史记录完整" in output
    assert f"{Event.objects.count()} 条历史记录" in output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflows_event SET comment = 'changed'",
        "DELETE FROM workflows_event",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(walked, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Event.objects.filter(comment="changed").count() == 0


def test_the_orm_cannot_change_an_event_either(walked):
    event = Event.objects.first()
    event.comment = "changed"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.all().delete()


def test_the_guards_are_installed_for_this_database(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'workflows_event'")
            assert {row[0] for row in cursor.fetchall()} == {"workflows_event_no_update", "workflows_event_no_delete"}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'workflows_event'::regclass AND NOT tgisinternal"
            )
            assert {row[0] for row in cursor.fetchall()} == {"workflows_event_no_change", "workflows_event_no_truncate"}


def test_emptying_a_committed_history_is_refused(committed, plan, county_clerk):
    """TRUNCATE on PostgreSQL, DELETE on SQLite (which has no TRUNCATE): committed history stays."""
    from workflows.rounds import open_round

    open_round(2024, measures=[plan.measures.get(number=12)])
    statement = (
        "TRUNCATE workflows_event CASCADE" if connection.vendor == "postgresql" else "DELETE FROM workflows_event"
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Event.objects.count() == 13


@pytest.fixture
def unguarded():
    """The triggers removed, as someone with direct database access could; restored afterwards."""
    history.remove_guards()
    yield
    history.install_guards()


def tamper(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_history_names_an_altered_event(walked, unguarded):
    victim = Event.objects.filter(assignment=walked, sequence=5).get()
    tamper("UPDATE workflows_event SET comment = %s WHERE id = %s", "被篡改", victim.pk)
    with pytest.raises(CommandError, match=f"事件 {victim.pk}.*第 5 条.*内容与哈希不符"):
        verify()


def test_verify_history_names_a_removed_event(walked, unguarded):
    victim = Event.objects.filter(assignment=walked, sequence=3).get()
    tamper("DELETE FROM workflows_event WHERE id = %s", victim.pk)
    with pytest.raises(CommandError, match="第 4 条.*序号应为 3"):
        verify()


def test_verify_history_notices_a_removed_tail(walked, unguarded):
    last = Event.objects.filter(assignment=walked).order_by("-sequence").first()
    tamper("DELETE FROM workflows_event WHERE id = %s", last.pk)
    with pytest.raises(CommandError, match="历史末尾被删除或改动"):
        verify()


def test_verify_history_notices_a_rehashed_forgery(walked, unguarded):
    """Rewriting an event and its own hash still breaks the link to the next event."""
    victim = Event.objects.filter(assignment=walked, sequence=2).get()
    victim.comment = "伪造"
    forged = history.recompute(victim, walked.key)
    tamper("UPDATE workflows_event SET comment = %s, hash = %s WHERE id = %s", "伪造", forged, victim.pk)
    with pytest.raises(CommandError, match="第 3 条.*不衔接"):
        verify()


def test_verify_history_notices_an_altered_state_in_an_event(walked, unguarded):
    victim = Event.objects.filter(assignment=walked, action="accept").get()
    tamper("UPDATE workflows_event SET to_state = 'returned' WHERE id = %s", victim.pk)
    with pytest.raises(CommandError, match="内容与哈希不符"):
        verify()


def test_an_auditor_runs_the_integrity_check_in_the_app(client, walked, auditor, county_clerk, section_chief):
    from django.urls import reverse

    client.force_login(auditor)
    response = client.get(reverse("assignments:audit"))
    assert response.status_code == 200
    assert f"{Event.objects.count()} 条历史记录,哈希链全部吻合" in response.content.decode()
    assert "核验历史记录" in client.get(reverse("assignments:index")).content.decode()  # in the menu
    for user in (county_clerk, section_chief):
        client.force_login(user)
        assert client.get(reverse("assignments:audit")).status_code == 403


def test_the_app_shows_an_auditor_the_first_bad_event(client, walked, auditor, unguarded):
    from django.urls import reverse

    victim = Event.objects.filter(assignment=walked, sequence=4).get()
    tamper("UPDATE workflows_event SET comment = %s WHERE id = %s", "改过", victim.pk)
    client.force_login(auditor)
    content = client.get(reverse("assignments:audit")).content.decode()
    assert "历史记录不完整" in content and f"事件 {victim.pk}" in content


def test_an_events_hash_does_not_depend_on_the_zone_its_time_is_read_in(walked):
    import zoneinfo

    event = Event.objects.filter(assignment=walked).last()
    event.at = event.at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert history.recompute(event, walked.key) == event.hash
