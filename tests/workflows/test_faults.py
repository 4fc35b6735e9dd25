"""Faults: a process killed inside an action, a round's opening or an upload leaves nothing half done, and a
database that goes away mid-request answers 503, not a traceback.

A kill runs the operation in a process of its own (`tests.workflows.crashing`) against this test's committed
database, lets it write its event (or its attachment row and file), SIGKILLs it before it commits, and then
looks at what is left from here.
"""

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from assignments.models import Assignment, Attachment, Measure, Round, State
from workflows import actions, files, history, rounds
from workflows.models import Event

from .conftest import indicators, snapshot


def database_url():
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


def kill_inside(*args):
    """Start the operation in a process of its own, wait until it has written inside its transaction, kill it."""
    environment = {**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    environment.update(HISTORY_KEY=settings.HISTORY_KEY, DEBUG="true", LOG_LEVEL="WARNING")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.workflows.crashing", *map(str, args)],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = child.stdout.readline().strip()
        assert said == "PAUSED", f"{said!r} {child.stderr.read() if said != 'FINISHED' else ''}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL


def stored_files():
    return sorted(path.name for path in (settings.MEDIA_ROOT / "attachments").glob("*/*"))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_submit_killed_after_writing_its_event_leaves_the_assignment_task_and_history_as_before(
    committed, round_2024, assignment, walk, county_clerk
):
    a = walk.start(assignment)
    before = snapshot(a)
    kill_inside("submit", a.pk, county_clerk.username)
    assert snapshot(a) == before  # state, version, viewflow tasks, events, submissions: none of it half there
    assert history.verify().intact
    submitted = walk.submit(Assignment.objects.get(pk=a.pk))
    assert submitted.state == State.SUBMITTED
    assert Event.objects.filter(assignment=a).order_by("-sequence").first().to_state == State.SUBMITTED
    assert history.verify().intact


def test_opening_a_round_killed_after_its_first_events_leaves_no_round_assignment_or_event(committed, plan):
    counts = (Round.objects.count(), Assignment.objects.count(), Event.objects.count())
    kill_inside("open_round", 2025)
    assert (Round.objects.count(), Assignment.objects.count(), Event.objects.count()) == counts
    assert not Round.objects.filter(year=2025).exists()
    assert history.verify().intact
    _, created = rounds.open_round(2025, measures=[Measure.objects.get(number=7)])
    assert created > 0
    assert Assignment.objects.filter(round__year=2025, state=State.ASSIGNED, event_count=1).count() == created
    assert history.verify().intact


def test_an_upload_killed_after_storing_its_file_leaves_no_row_and_only_an_orphan_file_that_the_sweep_removes(
    committed, media, round_2024, assignment, walk, county_clerk
):
    a = walk.start(assignment)
    before = snapshot(a)
    kill_inside("attach", a.pk, county_clerk.username)
    assert snapshot(a) == before
    assert not Attachment.objects.exists()
    # The file was stored before the row: with the row rolled back it is an orphan, which sweep_media deletes.
    assert len(stored_files()) == 1
    assert files.sweep(grace_seconds=0) == 1
    assert stored_files() == []
    assert history.verify().intact
    from django.core.files.uploadedfile import SimpleUploadedFile

    attached = actions.attach(
        Assignment.objects.get(pk=a.pk), by=county_clerk, upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.7\n%%EOF")
    )
    assert stored_files() == [attached.sha256]
    submitted = walk.submit(Assignment.objects.get(pk=a.pk), values=indicators(a))
    assert submitted.state == State.SUBMITTED and Attachment.objects.get().submission_id is not None
