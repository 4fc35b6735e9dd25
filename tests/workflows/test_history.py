"""The history is append-only, chained, and verifiable."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from assignments.models import Assignment
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


def test_each_event_records_its_algorithm_and_key_id(walked, settings):
    event = Event.objects.filter(assignment=walked).last()
    assert event.algorithm == settings.HISTORY_ALGORITHM == "sm3"
    assert event.key_id == history.current_key()[0] and len(event.key_id) == 8
    assert len(event.hash) == 64


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
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert {row[0] for row in cursor.fetchall()} == {
                "workflows_event_no_update",
                "workflows_event_no_delete",
                "workflows_event_no_replace",
                "assignments_assignment_head_moves_with_event",
                "assignments_assignment_no_replace",
            }
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('workflows_event'::regclass, "
                "'assignments_assignment'::regclass) AND NOT tgisinternal"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "workflows_event_no_change",
                "workflows_event_no_truncate",
                "assignments_assignment_head_moves_with_event",
                "assignments_assignment_head_at_commit",
            }


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
    with pytest.raises(CommandError, match=f"事件 {victim.pk}.*第 5 条.*内容与密钥摘要不符"):
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
    """Rewriting an event and its own digest (even with the key) still breaks the link to the next event."""
    victim = Event.objects.filter(assignment=walked, sequence=2).get()
    victim.comment = "伪造"
    forged = history.recompute(victim, walked.key)
    tamper("UPDATE workflows_event SET comment = %s, hash = %s WHERE id = %s", "伪造", forged, victim.pk)
    with pytest.raises(CommandError, match="第 3 条.*不衔接"):
        verify()


def test_verify_history_notices_an_altered_state_in_an_event(walked, unguarded):
    victim = Event.objects.filter(assignment=walked, action="accept").get()
    tamper("UPDATE workflows_event SET to_state = 'returned' WHERE id = %s", victim.pk)
    with pytest.raises(CommandError, match="内容与密钥摘要不符"):
        verify()


def test_an_auditor_runs_the_integrity_check_in_the_app(client, walked, auditor, county_clerk, section_chief):
    from django.urls import reverse

    client.force_login(auditor)
    response = client.get(reverse("audit:index"), {"verify": "1"})
    assert response.status_code == 200
    assert f"{Event.objects.count()} 条历史记录,密钥摘要链全部吻合" in response.content.decode()
    assert reverse("audit:index") in client.get(reverse("assignments:index")).content.decode()  # in the menu
    for user in (county_clerk, section_chief):
        client.force_login(user)
        assert client.get(reverse("audit:index")).status_code == 403


def test_the_app_shows_an_auditor_the_first_bad_event(client, walked, auditor, unguarded):
    from django.urls import reverse

    victim = Event.objects.filter(assignment=walked, sequence=4).get()
    tamper("UPDATE workflows_event SET comment = %s WHERE id = %s", "改过", victim.pk)
    client.force_login(auditor)
    content = client.get(reverse("audit:index"), {"verify": "1"}).content.decode()
    assert "历史记录不完整" in content and f"事件 {victim.pk}" in content


def test_an_events_hash_does_not_depend_on_the_zone_its_time_is_read_in(walked):
    import zoneinfo

    event = Event.objects.filter(assignment=walked).last()
    event.at = event.at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert history.recompute(event, walked.key) == event.hash


# Keys, algorithms and checkpoints


def take_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.txt"
    call_command("history_checkpoint", "-o", str(path), stderr=StringIO())
    return path


def test_a_checkpoint_is_one_keyed_line_with_the_counts_and_every_chains_head(walked, tmp_path):
    import json

    from workflows.models import Checkpoint

    line = take_checkpoint(tmp_path).read_text()
    assert line.count("\n") == 1
    data = json.loads(line)
    assert (data["chains"], data["events"]) == (Assignment.objects.count(), Event.objects.count())
    assert data["algorithm"] == "sm3" and data["key_id"] == history.current_key()[0]
    assert [walked.key, walked.event_count, walked.last_hash] in data["heads"]
    assert Checkpoint.objects.get().line == line.strip()
    assert "每条历史都延续" in verify_with(tmp_path / "checkpoint.txt")


def verify_with(path):
    out = StringIO()
    call_command("verify_history", "--checkpoint", str(path), stdout=out)
    return out.getvalue()


def test_a_checkpoint_whose_line_was_altered_is_refused(walked, tmp_path):
    path = take_checkpoint(tmp_path)
    path.write_text(path.read_text().replace('"events":', '"events":1', 1))
    with pytest.raises(CommandError, match="检查点被改动"):
        verify_with(path)


def test_no_checkpoint_is_written_for_a_broken_history(walked, unguarded, tmp_path):
    from workflows.models import Checkpoint

    tamper("UPDATE workflows_event SET comment = 'x' WHERE assignment_id = %s AND sequence = 2", walked.pk)
    with pytest.raises(CommandError, match="不写检查点.*内容与密钥摘要不符"):
        take_checkpoint(tmp_path)
    assert not Checkpoint.objects.exists()


def test_after_a_key_rotation_old_events_and_checkpoints_verify_with_the_old_key(walked, walk, settings, tmp_path):
    old_key_id = history.current_key()[0]
    path = take_checkpoint(tmp_path)
    settings.HISTORY_OLD_KEYS = [settings.HISTORY_KEY]
    settings.HISTORY_KEY = "a new key of at least thirty-two characters"
    settings.HISTORY_ALGORITHM = "sha256"
    other = walk.to(Assignment.objects.exclude(pk=walked.pk).filter(unit__name="离石区").first(), "submitted")
    newest = Event.objects.filter(assignment=other).last()
    assert (newest.key_id, newest.algorithm) != (old_key_id, "sm3")
    assert newest.algorithm == "sha256"
    assert "历史记录完整" in verify_with(path)
    settings.HISTORY_OLD_KEYS = []
    with pytest.raises(CommandError, match=f"密钥 {old_key_id} 不是当前或旧密钥"):
        verify_with(path)


def test_production_refuses_to_start_without_a_history_key():
    import os
    import subprocess
    import sys

    from django.conf import settings

    environment = {key: value for key, value in os.environ.items() if key not in {"HISTORY_KEY", "DEBUG"}}
    environment.update(DEBUG="false", SECRET_KEY="a-production-secret-key-for-tests", ALLOWED_HOSTS="example.org")
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "HISTORY_KEY must be set when DEBUG is off" in done.stderr


def test_development_generates_a_private_key_file_once_and_reuses_it(tmp_path, capsys):
    from config.settings import development_history_key

    path = tmp_path / "var" / "history.key"
    first = development_history_key(path)
    assert "generated a development key" in capsys.readouterr().err
    assert development_history_key(path) == first and len(first) == 64
    assert capsys.readouterr().err == ""
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_auditors_page_offers_the_latest_checkpoint_to_auditors_only(client, walked, auditor, county_clerk,
                                                                         tmp_path):  # fmt: skip
    from django.urls import reverse

    from workflows.models import Checkpoint

    line = take_checkpoint(tmp_path).read_text()
    client.force_login(auditor)
    content = client.get(reverse("audit:index"), {"verify": "1"}).content.decode()
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.digest in content and "并延续最近检查点记下的末条" in content
    download = client.get(reverse("audit:checkpoint", args=[checkpoint.pk]))
    assert download.status_code == 200 and download.content.decode() == line
    assert "attachment" in download["Content-Disposition"]
    client.force_login(county_clerk)
    assert client.get(reverse("audit:checkpoint", args=[checkpoint.pk])).status_code == 403


def test_the_auditors_page_compares_with_the_latest_checkpoint(client, walked, auditor, unguarded, tmp_path):
    from django.urls import reverse

    take_checkpoint(tmp_path)
    last = Event.objects.filter(assignment=walked).order_by("-sequence").first()
    tamper("DELETE FROM workflows_event WHERE id = %s", last.pk)
    tamper(
        "UPDATE assignments_assignment SET event_count = %s, last_hash = %s WHERE id = %s",
        last.sequence - 1,
        last.prev_hash,
        walked.pk,
    )
    client.force_login(auditor)
    content = client.get(reverse("audit:index"), {"verify": "1"}).content.decode()
    assert "历史记录不完整" in content and "历史末尾被删除" in content


def test_the_api_verdict_names_the_latest_checkpoint(walked, auditor, tmp_path):
    from rest_framework.test import APIClient

    from workflows.models import Checkpoint

    client = APIClient()
    client.force_authenticate(auditor)
    assert client.get("/api/v1/history/verify/").json()["checkpoint"] is None
    take_checkpoint(tmp_path)
    body = client.get("/api/v1/history/verify/").json()
    checkpoint = Checkpoint.objects.get()
    assert body["intact"] is True
    assert body["checkpoint"]["digest"] == checkpoint.digest and body["checkpoint"]["events"] == checkpoint.events
