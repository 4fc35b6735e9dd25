"""Racing actions: exactly one wins, the others are told the assignment moved on."""

import threading

from django.contrib.auth import get_user_model
from django.db import connection, connections

from assignments.models import Assignment, Measure, State
from workflows import actions, rounds
from workflows.models import Event

from .conftest import indicators

RACERS = 10


def race(assignment_id, username, version, action="accept"):
    """Start RACERS threads at a barrier, each taking `action` with the same version; their outcomes."""
    barrier = threading.Barrier(RACERS)
    outcomes = []
    lock = threading.Lock()

    def racer():
        try:
            user = get_user_model().objects.get(username=username)
            barrier.wait()
            try:
                getattr(actions, action)(assignment_id, by=user, version=version)
                outcome = "ok"
            except actions.Conflict:
                outcome = "conflict"
            except Exception as error:  # anything else is a failure of the test
                outcome = f"{type(error).__name__}: {error}"
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(outcomes)


def under_review(plan, walk):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    return walk.to(a, "under_review")


def test_ten_simultaneous_accepts_end_with_one_accepted_and_nine_conflicts(committed, plan, walk, section_chief):
    a = under_review(plan, walk)
    outcomes = race(a.pk, section_chief.username, a.version)
    assert outcomes == ["conflict"] * 9 + ["ok"], f"{connection.vendor}: {outcomes}"
    stored = Assignment.objects.get(pk=a.pk)
    assert (stored.state, stored.version) == (State.ACCEPTED, a.version + 1)
    assert Event.objects.filter(assignment=a, action="accept").count() == 1


def test_ten_simultaneous_starts_by_two_clerks_leave_one_owner(committed, plan, walk, county_clerk):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    outcomes = race(a.pk, county_clerk.username, a.version, action="start")
    assert outcomes == ["conflict"] * 9 + ["ok"]
    assert Event.objects.filter(assignment=a, action="start").count() == 1
    # the winner's move is whole: a submit on the new version goes through
    stored = Assignment.objects.get(pk=a.pk)
    actions.submit(stored, by=county_clerk, version=stored.version, narrative="x", indicators=indicators(stored))
