"""`make loadtest`: Duban served as in production (`make serve`: gunicorn and the task worker) under simulated users.

Run as `python -m bench.load`. It makes a database of its own (a uniquely named PostgreSQL database when
DATABASE_URL points at PostgreSQL, else a temporary SQLite file) and a temporary media folder, loads the
plan, opens the 2024 round and makes one account per simulated user: clerks of the counties, the sections'
chiefs, a leader and an auditor. It starts the served stack on a free port of 127.0.0.1 and drives it with
locust, headless, in three phases of bounded length:

1. the users think a few seconds between steps (locust `between(1, 3)`, scaled by LOADTEST_THINK) while
   doing the day's work through the pages: the desks, an assignment's page, start, upload, submit,
   begin_review, accept, the matrix, the list, the auditors' history search and the exports;
2. the same users and work without thinking (a closed loop): the requests per second at saturation;
3. the same number of users asking `/healthz` only, without thinking: the ceiling of the stack.

It prints one JSON line per kind of request of phase 1 (`name`, `requests`, `errors`, `p50`, `p95`, `p99`
in milliseconds), one named `total`, one named `saturation` (`rps` of the day's work, `healthz_rps`), then
the checks once the server has stopped: the history verifies (`verify_history`) and every assignment's
state equals the replay of its events (`replay`). The exit status is non-zero when a check fails. The
database and the folders are removed afterwards, also on failure.

LOADTEST_SECONDS (default 60) is the length of phase 1; phases 2 and 3 last half and a quarter of it, and a
warm-up of the day's work before phase 1, not counted, a quarter of it (5 s to 10 s).
LOADTEST_USERS (default 50) is the number of simulated users.
"""

# locust patches the standard library for gevent when imported: before anything opens a socket.
import locust  # noqa: F401, I001
import gevent
from locust import FastHttpUser, between, constant, task
from locust.env import Environment

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import string  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.cookiejar import Cookie  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
YEAR = 2024

# The served stack and this process share the keys: the sessions made here are the server's, and the
# history the server writes is verified here.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
os.environ["HISTORY_KEY"] = secrets.token_hex(32)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from assignments import plans  # noqa: E402
from assignments.models import Assignment, Plan, Unit  # noqa: E402
from permissions.roles import Role, assign_role, resolve  # noqa: E402
from workflows import history, rounds  # noqa: E402
from workflows.models import Event  # noqa: E402

# --- the accounts and their work ---------------------------------------------------------------------


@dataclass
class Account:
    """One simulated person: the session and CSRF cookies made for it, and the assignments it works on."""

    role: str
    username: str
    session: str = ""
    csrf: str = field(default_factory=lambda: "".join(random.choices(string.ascii_letters + string.digits, k=32)))
    work: list = field(default_factory=list)  # a clerk's assignments, in order; a chief's section's
    done: set = field(default_factory=set)


def shares(users):
    """How `users` simulated people divide: one leader, one auditor, a chief per section up to five, the rest
    clerks spread over the counties."""
    leaders = auditors = 1 if users >= 4 else 0
    chiefs = min(5, max(1, users // 10))
    return {"leader": leaders, "auditor": auditors, "chief": chiefs, "clerk": users - leaders - auditors - chiefs}


def session_for(user):
    """A logged-in session, as the login page makes it (without the password hashing, which is not the
    day's work)."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def make_accounts(users):
    """The accounts of `users` people, with their work: each clerk a share of its county's assignments (those
    whose lead section has a chief here first), each chief its section's assignments."""
    User = get_user_model()
    share = shares(users)
    sections = list(Unit.objects.sections().order_by("position"))
    led = defaultdict(int)
    for section_id in Assignment.objects.filter(unit__kind=Unit.Kind.COUNTY).values_list("lead_section", flat=True):
        led[section_id] += 1
    sections.sort(key=lambda section: -led[section.pk])  # the sections with most to review get the chiefs
    reviewed = {section.pk for section in sections[: share["chief"]]}
    accounts = {role: [] for role in share}

    def person(role, name, duty, unit):
        user = User.objects.create_user(name)
        assign_role(user, duty, unit)
        account = Account(role, name, session=session_for(user))
        accounts[role].append(account)
        return account

    for index, section in enumerate(sections[: share["chief"]]):
        chief = person("chief", f"load_chief_{index}", Role.SECTION_CHIEF, section)
        chief.work = list(
            Assignment.objects.filter(lead_section=section, unit__kind=Unit.Kind.COUNTY).values_list("pk", flat=True)
        )
    counties = list(Unit.objects.counties().order_by("position"))
    clerks = defaultdict(list)
    for index in range(share["clerk"]):
        county = counties[index % len(counties)]
        clerks[county.pk].append(person("clerk", f"load_clerk_{index}", Role.COUNTY_CLERK, county))
    for county_id, people in clerks.items():
        rows = Assignment.objects.filter(unit_id=county_id).order_by("due", "pk").values_list("pk", "lead_section")
        ordered = sorted(rows, key=lambda row: row[1] not in reviewed)
        for position, (pk, _) in enumerate(ordered):
            people[position % len(people)].work.append(pk)
    if share["leader"]:
        person("leader", "load_leader", Role.LEADER, resolve(Role.LEADER, None))
    if share["auditor"]:
        person("auditor", "load_auditor", Role.AUDITOR, resolve(Role.AUDITOR, None))
    return accounts


# --- the simulated people ----------------------------------------------------------------------------

FORM = re.compile(r'<form method="post" action="/assignments/(\d+)/actions/(\w+)/"[^>]*>(.*?)</form>', re.S)
FIELD = re.compile(r'<(?:input|textarea|select)\b[^>]*\bname="(\w+)"(?:[^>]*\bvalue="([^"]*)")?', re.S)
LINK = re.compile(r'href="/assignments/(\d+)/"')


def action_forms(page):
    """The action forms of an assignment's page: {action: {field: value}}."""
    forms = {}
    for _, action, body in FORM.findall(page):
        forms[action] = dict(FIELD.findall(body))
    return forms


def cookie(name, value):
    return Cookie(0, name, value, None, False, HOST, False, False, "/", True, False, None, True, None, None, {})


class Person(FastHttpUser):
    """One account's day, a step per task: every step is one request, and the person thinks between steps."""

    abstract = True
    wait_time = between(1, 3)
    role = ""
    pool = {}  # role → the accounts not yet taken in this phase

    def on_start(self):
        self.account = self.pool[self.role].pop()
        self.client.cookiejar.set_cookie(cookie(settings.SESSION_COOKIE_NAME, self.account.session))
        self.client.cookiejar.set_cookie(cookie(settings.CSRF_COOKIE_NAME, self.account.csrf))
        self.steps = self.day()

    @task
    def step(self):
        next(self.steps)

    def day(self):
        raise NotImplementedError

    def get(self, url, name):
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")
                return ""
            return response.text or ""

    def open(self, pk):
        return self.get(f"/assignments/{pk}/", "open")

    def post(self, url, name, **options):
        """A form's POST; the pages answer a done action by sending the browser back to the assignment."""
        options.setdefault("headers", {})["X-CSRFToken"] = self.account.csrf
        with self.client.post(url, name=name, allow_redirects=False, catch_response=True, **options) as response:
            if response.status_code != 302:
                response.failure(f"{response.status_code} for {url}")
                return False
            return True

    def act(self, pk, action, values):
        data = {**values, "csrfmiddlewaretoken": self.account.csrf, "do": action}
        for name in data:
            if name.startswith("indicator_"):
                data[name] = "100"
        if "narrative" in data:
            data["narrative"] = f"{self.account.username} 的报送"
        return self.post(f"/assignments/{pk}/actions/{action}/", action, data=data)

    def upload(self, pk):
        boundary = secrets.token_hex(16)
        content = b"%PDF-1.4\n% " + f"{self.account.username} {pk} {time.time_ns()}".encode() + b"\n%%EOF\n"
        head = f"--{boundary}\r\nContent-Disposition: form-data; name="
        body = b"".join(
            [
                f'{head}"csrfmiddlewaretoken"\r\n\r\n{self.account.csrf}\r\n'.encode(),
                f'{head}"file"; filename="report-{pk}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode(),
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.post(f"/assignments/{pk}/attachments/", "upload", data=body, headers=headers)


class Clerk(Person):
    """A county clerk: the desk, then the next assignment of its share through start, upload and submit;
    with its share handed in, the desk and its assignments' pages."""

    role = "clerk"

    def day(self):
        while True:
            self.get("/inbox/", "inbox")
            yield
            pending = [pk for pk in self.account.work if pk not in self.account.done]
            if not pending:
                self.open(random.choice(self.account.work))
                yield
                continue
            pk = pending[0]
            forms = action_forms(self.open(pk))
            yield
            if "start" in forms:
                self.act(pk, "start", forms["start"])
                yield
                forms = action_forms(self.open(pk))
                yield
            if "submit" not in forms:
                self.account.done.add(pk)
                continue
            self.upload(pk)
            yield
            forms = action_forms(self.open(pk))
            yield
            if "submit" in forms and self.act(pk, "submit", forms["submit"]):
                self.account.done.add(pk)
                yield
                self.open(pk)
                yield


class Chief(Person):
    """A section's chief: the review desk, then the oldest report of its section through begin_review and
    accept."""

    role = "chief"

    def day(self):
        mine = set(self.account.work)
        while True:
            page = self.get("/review/", "review desk")
            yield
            waiting = [int(pk) for pk in LINK.findall(page) if int(pk) in mine and int(pk) not in self.account.done]
            if not waiting:
                continue
            pk = waiting[0]
            forms = action_forms(self.open(pk))
            yield
            if "begin_review" in forms:
                self.act(pk, "begin_review", forms["begin_review"])
                yield
                forms = action_forms(self.open(pk))
                yield
            if "accept" in forms and self.act(pk, "accept", forms["accept"]):
                yield
                self.open(pk)
                yield
            self.account.done.add(pk)


class Leader(Person):
    """The bureau's leader: the round's matrix, the list of what is handed in, one assignment, the ledger."""

    role = "leader"

    def day(self):
        while True:
            self.get(f"/matrix/{YEAR}/", "matrix")
            yield
            page = self.get(f"/assignments/?year={YEAR}&state=submitted", "list")
            yield
            found = LINK.findall(page)
            if found:
                self.open(random.choice(found))
                yield
            self.get(f"/assignments/rounds/{YEAR}/ledger.xlsx", "export ledger")
            yield


class Auditor(Person):
    """The auditor: the history search (today's submissions, then one county's events) and its export."""

    role = "auditor"
    counties = ()

    def day(self):
        while True:
            self.get("/audit/?action=submit", "history search")
            yield
            query = f"unit={random.choice(self.counties)}"
            self.get(f"/audit/?{query}", "history search")
            yield
            self.get(f"/audit/events.csv?{query}", "export history")
            yield


class Prober(FastHttpUser):
    """The load balancer's probe, without pause: how fast the stack answers at all."""

    wait_time = constant(0)

    @task
    def probe(self):
        self.client.get("/healthz", name="healthz")


PEOPLE = {"clerk": Clerk, "chief": Chief, "leader": Leader, "auditor": Auditor}


def run_phase(classes, base, users, seconds):
    """Run `users` of `classes` against `base` for `seconds` once all are started; their stats and the
    seconds measured."""
    environment = Environment(user_classes=classes, host=base)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=max(users, 1))
    started = time.monotonic()
    while runner.user_count < users and time.monotonic() - started < 30:
        gevent.sleep(0.05)
    environment.stats.reset_all()
    began = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - began
    stats = environment.stats
    totals = stats.total.num_requests, stats.total.num_failures, stats.total.get_response_time_percentile(0.95)
    entries = sorted(stats.entries.values(), key=lambda entry: entry.name)
    rows = [figures(entry.name, entry) for entry in entries] + [figures("total", stats.total)]
    errors = [f"{error.name}: {error.error} ×{error.occurrences}" for error in stats.errors.values()]
    errors += [f"{crash['msg']} ×{crash['count']}\n{crash['traceback']}" for crash in runner.exceptions.values()]
    runner.quit()
    return rows, totals, elapsed, errors


def figures(name, entry):
    return {
        "name": name,
        "requests": entry.num_requests,
        "errors": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
    }


def the_day(accounts, base, users, seconds, think):
    """Phases 1 and 2: the same accounts and their work, with thinking and then without. A warm-up of the
    day's work first, not counted: every server process has loaded its code and templates before the count."""
    share = shares(users)
    classes = [person for role, person in PEOPLE.items() if share[role]]
    for role, person in PEOPLE.items():
        person.fixed_count = share[role]

    def phase(wait, length):
        Person.pool = {role: list(accounts[role]) for role in accounts}
        for person in classes:
            person.wait_time = wait
        return run_phase(classes, base, users, length)

    thinking = between(think, 3 * think) if think else constant(0)
    _, _, _, errors = phase(thinking, min(10, max(seconds / 4, 5)))
    rows, _, _, day_errors = phase(thinking, seconds)
    _, (requests, failures, p95), elapsed, saturated_errors = phase(constant(0), max(seconds / 2, 1))
    return rows, round(requests / elapsed, 1), failures, p95, errors + day_errors + saturated_errors


# --- the served stack --------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url(database):
    """The URL of the test database this process made, for the server's DATABASE_URL."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database['NAME']}"))


def serve(port, folder, database):
    """`make serve`'s stack (config.serve: migrate, collectstatic, gunicorn and the task worker), on
    127.0.0.1:`port`, logging into `folder`/serve.log; returns once /healthz answers."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DEBUG"}}
    environment.update(
        DATABASE_URL=database_url(database),
        BIND=f"{HOST}:{port}",
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",  # plain HTTP on the loopback, no proxy in front
        SECURE_COOKIES="false",
        MEDIA_ROOT=str(folder / "media"),
        STATIC_ROOT=str(folder / "static"),
        API_USER_RATE="100000/min",
        LOG_LEVEL="WARNING",
    )
    log = open(folder / "serve.log", "w")  # noqa: SIM115 (closed with the server, in stop())
    server = subprocess.Popen(
        [sys.executable, "-m", "config.serve"], cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    server.log = log
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped while starting:\n{tail(folder / 'serve.log')}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"the server did not answer /healthz within 180 s:\n{tail(folder / 'serve.log')}")


def stop(server):
    """SIGTERM to config.serve (which passes it to gunicorn and the worker); the whole group killed if it
    does not end."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    server.log.close()


def tail(path, lines=40):
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the checks --------------------------------------------------------------------------------------


def replay():
    """Every assignment's state against its events replayed: each event starts where the one before it
    ended, and the last one ends in the assignment's state."""
    wrong, checked = [], 0
    events = Event.objects.order_by("assignment_id", "sequence").values_list("assignment_id", "from_state", "to_state")
    states = dict(Assignment.objects.values_list("pk", "state"))
    replayed = {}
    for pk, source, target in events.iterator(chunk_size=5000):
        if pk in replayed and source != replayed[pk]:
            wrong.append(pk)
        replayed[pk] = target
    for pk, state in states.items():
        checked += 1
        if replayed.get(pk) != state:
            wrong.append(pk)
    return {"name": "replay", "assignments": checked, "mismatches": len(set(wrong)), "first": min(wrong, default=None)}


def checks():
    verdict = history.verify()
    intact = {
        "name": "verify_history",
        "intact": verdict.intact,
        "assignments": verdict.assignments,
        "events": verdict.events,
        "problem": verdict.problem or None,
    }
    counts = dict(Assignment.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return [intact, replay(), {"name": "states", **counts}]


# --- the run -----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOADTEST_SECONDS") or 60))
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOADTEST_USERS") or 50))
    parser.add_argument(
        "--think", type=float, default=float(os.environ.get("LOADTEST_THINK") or 1),
        help="the shortest pause between steps in seconds (the longest is three times it)",
    )  # fmt: skip
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))  # so that the database is dropped

    folder = Path(tempfile.mkdtemp(prefix="duban-load-"))
    database = settings.DATABASES["default"]
    sqlite = database["ENGINE"].endswith("sqlite3")
    suffix = settings.TEST_DATABASE_SUFFIX  # a name of this run's own: the server may be shared
    database.setdefault("TEST", {})["NAME"] = str(folder / "load.sqlite3") if sqlite else f"duban_load_{suffix}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    settings.DEBUG = False  # no query log in this process
    server = None
    try:
        parsed = plans.read(settings.PLAN_FILE)
        plans.load(parsed)
        plan = Plan.objects.get(code=parsed["plan"]["code"])
        rounds.open_round(YEAR, plan=plan)
        accounts = make_accounts(options.users)
        Auditor.counties = list(Unit.objects.counties().values_list("name", flat=True))
        connection.close()  # the server's processes take over the database
        port = free_port()
        server = serve(port, folder, database)
        base = f"http://{HOST}:{port}"
        rows, rps, failures, p95, errors = the_day(accounts, base, options.users, options.seconds, options.think)
        _, (probes, _, _), elapsed, probe_errors = run_phase([Prober], base, options.users, max(options.seconds / 4, 1))
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        saturation = {"name": "saturation", "rps": rps, "healthz_rps": round(probes / elapsed, 1)}
        print(json.dumps({**saturation, "errors": failures, "p95": p95, "users": options.users}), flush=True)
        for error in (errors + probe_errors)[:20]:
            print(error, file=sys.stderr)
        stop(server)
        server = None
        results = checks()
        for result in results:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0 if results[0]["intact"] and not results[1]["mismatches"] else 1
    finally:
        if server is not None:
            stop(server)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
