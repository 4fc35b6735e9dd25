"""Measure Duban's lifecycle and round opening against baselines, on the configured database.

Run as `make bench` (or `python -m bench [--lifecycles N]`). The database is a fresh one made and
removed as the test runner does. Every figure is printed as one JSON line with its ratio to the
baselines measured in the same run, so that machines of different speed compare.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["EXTRA_APPS"] = "bench"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from viewflow.workflow.models import Task  # noqa: E402

from assignments import plans  # noqa: E402
from assignments.models import Plan, Round, Unit, WorkItem  # noqa: E402
from bench.flows import BareFlow  # noqa: E402
from bench.models import BenchEvent, BenchRow  # noqa: E402
from permissions.roles import assign_role  # noqa: E402
from workflows import actions, rounds  # noqa: E402
from workflows.models import Event  # noqa: E402


class Rollback(Exception):
    pass


def timed(function):
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def medians(paths, count, measure=timed):
    """Time every path `count` times, interleaved so that drift of the machine touches all alike; the
    median milliseconds of each."""
    runs = {name: [] for name in paths}
    for _ in range(count):
        for name, path in paths.items():
            runs[name].append(measure(path))
    return {name: round(statistics.median(times), 3) for name, times in runs.items()}


# --- the minimum: one conditional UPDATE and one INSERT per step, through the ORM -------------------

STEPS = ["start", "submit", "begin_review", "accept"]
STATES = {
    "start": ("assigned", "in_progress"),
    "submit": ("in_progress", "submitted"),
    "begin_review": ("submitted", "under_review"),
    "accept": ("under_review", "accepted"),
}


def raw_lifecycle():
    with transaction.atomic():
        row = BenchRow.objects.create(state="assigned", version=1)
        BenchEvent.objects.create(row=row, action="issue", at=timezone.now())
    version = 1
    for step in STEPS:
        source, target = STATES[step]
        with transaction.atomic():
            updated = BenchRow.objects.filter(pk=row.pk, version=version, state=source).update(
                state=target, version=F("version") + 1
            )
            assert updated == 1
            BenchEvent.objects.create(row_id=row.pk, action=step, at=timezone.now())
        version += 1


# --- bare viewflow ----------------------------------------------------------------------------------


def viewflow_lifecycle(clerk, chief):
    """Issue; then for the county's task and the section's: claim it (start, begin_review), complete it
    (submit, accept), each step in its own transaction as in the app."""
    with transaction.atomic():
        process = BareFlow.start.run()
    for node, user in ((BareFlow.work, clerk), (BareFlow.review, chief)):
        task = Task.objects.get(process=process, flow_task=node)
        with transaction.atomic(), task.activation() as activation:
            activation.assign(user)
        with transaction.atomic(), task.activation() as activation:
            activation.start(None)
            activation.execute()


# --- Duban ------------------------------------------------------------------------------------------


def counting(function):
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


def people():
    """A clerk for every county and a chief for every section, as `adduser` makes them."""
    User = get_user_model()
    clerks, chiefs = {}, {}
    for unit in Unit.objects.counties():
        clerks[unit.pk] = User.objects.create_user(f"bench_clerk_{unit.pk}")
        assign_role(clerks[unit.pk], "county_clerk", unit)
    for unit in Unit.objects.sections():
        chiefs[unit.pk] = User.objects.create_user(f"bench_chief_{unit.pk}")
        assign_role(chiefs[unit.pk], "section_chief", unit)
    return clerks, chiefs


def bench_lifecycle(plan, count):
    round_ = Round.objects.create(plan=plan, year=2025)
    clerks, chiefs = people()
    items = WorkItem.objects.filter(measure__plan=plan, first_year__lte=2025, last_year__gte=2025).prefetch_related(
        "item_sections", "indicators", "measure__measure_sections"
    )
    pairs = iter([(item, county) for item in items for county in Unit.objects.counties()])

    def duban():
        """Issue, start, submit, begin_review, accept: each in its own transaction, as in the app."""
        item, county = next(pairs)
        clerk, chief = clerks[county.pk], chiefs[min(item.item_sections.all(), key=lambda s: s.position).unit_id]
        values = {str(indicator.pk): "100" for indicator in item.indicators.all()}
        a = rounds.issue(round_, item, county, by=chief)
        a = actions.start(a, by=clerk, version=a.version)
        a = actions.submit(a, by=clerk, version=a.version, narrative="bench", indicators=values)
        a = actions.begin_review(a, by=chief, version=a.version)
        actions.accept(a, by=chief, version=a.version)

    clerk, chief = next(iter(clerks.values())), next(iter(chiefs.values()))

    def viewflow():
        viewflow_lifecycle(clerk, chief)

    # each path once to warm caches alike (the users' grants are read once per user object, as once
    # per request in the app), then once more counting its statements
    for path in (duban, raw_lifecycle, viewflow):
        path()
    queries, raw_queries, viewflow_queries = counting(duban), counting(raw_lifecycle), counting(viewflow)
    times = medians({"ms": duban, "raw_ms": raw_lifecycle, "viewflow_ms": viewflow}, count)
    return {
        "name": "lifecycle",
        "database": connection.vendor,
        "runs": count,
        **times,
        "ratio": round(times["ms"] / times["raw_ms"], 2),
        "vs_viewflow": round(times["ms"] / times["viewflow_ms"], 2),
        "queries": queries,
        "raw_queries": raw_queries,
        "viewflow_queries": viewflow_queries,
    }


def rolled_back(function):
    """Run `function` in a transaction and undo it, so that every repetition starts alike."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            function()
            elapsed = (time.perf_counter() - started) * 1000
            raise Rollback
    except Rollback:
        pass
    return elapsed


def bench_open_round(plan, repeats):
    year = 2024
    items = WorkItem.objects.filter(measure__plan=plan, first_year__lte=year, last_year__gte=year).count()
    size = items * Unit.objects.counties().filter(plan_units__plan=plan).count() + len(rounds.section_reports(plan))

    def bulk():
        now = timezone.now()
        rows = BenchRow.objects.bulk_create(BenchRow(state="assigned", version=1) for _ in range(size))
        BenchEvent.objects.bulk_create(BenchEvent(row=row, action="issue", at=now) for row in rows)

    def viewflow():
        for _ in range(size):
            BareFlow.start.run()

    def duban():
        _, created = rounds.open_round(year, plan=plan)
        assert created == size

    times = medians({"ms": duban, "bulk_ms": bulk, "viewflow_ms": viewflow}, repeats, measure=rolled_back)
    return {
        "name": "open_round",
        "database": connection.vendor,
        "assignments": size,
        "runs": repeats,
        **times,
        "ratio": round(times["ms"] / times["bulk_ms"], 2),
        "vs_viewflow": round(times["ms"] / times["viewflow_ms"], 2),
    }


def bench_matrix(plan, count):
    """The round's matrix (年度总览) of the full 2024 round as a leader sees it, against the plain assignment
    list of the same round (one page of 50), both through the whole request, interleaved."""
    from django.test import Client

    _, created = rounds.open_round(2024, plan=plan, reports=True)
    leader = get_user_model().objects.create_user("bench_leader")
    assign_role(leader, "leader", Unit.objects.filter(kind=Unit.Kind.CITY).first())
    client = Client(HTTP_HOST="localhost")
    client.force_login(leader)
    query = f"?plan={plan.code}"

    def matrix():
        response = client.get(f"/matrix/2024/{query}")
        assert response.status_code == 200 and response.content.count(b'class="duban-cell ') == created

    def listing():
        assert client.get(f"/assignments/{query}&year=2024").status_code == 200

    for path in (matrix, listing):
        path()
    queries, list_queries = counting(matrix), counting(listing)
    times = medians({"ms": matrix, "list_ms": listing}, count)
    return {
        "name": "matrix",
        "database": connection.vendor,
        "assignments": created,
        "runs": count,
        **times,
        "ratio": round(times["ms"] / times["list_ms"], 2),
        "queries": queries,
        "list_queries": list_queries,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=300, help="lifecycles to time (median)")
    parser.add_argument("--rounds", type=int, default=9, help="round openings to time (median)")
    parser.add_argument("--pages", type=int, default=30, help="matrix pages to time (median)")
    options = parser.parse_args()

    # A database of the benchmark's own, never the test runner's.
    database = settings.DATABASES["default"]
    sqlite = database["ENGINE"].endswith("sqlite3")
    # Named for this run: the server may be shared, and a fixed name would be dropped under another run.
    suffix = settings.TEST_DATABASE_SUFFIX
    name = str(settings.BASE_DIR / f"bench-db-{suffix}.sqlite3") if sqlite else f"duban_bench_{suffix}"
    database.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        settings.DEBUG = False
        parsed = plans.read(settings.PLAN_FILE)
        plans.load(parsed)
        plan = Plan.objects.get(code=parsed["plan"]["code"])  # named: the database may hold other plans
        for result in (bench_lifecycle(plan, options.lifecycles), bench_open_round(plan, options.rounds)):
            print(json.dumps(result, ensure_ascii=False), flush=True)
        print(json.dumps(bench_matrix(plan, options.pages), ensure_ascii=False), flush=True)
        assert Event.objects.exists()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
