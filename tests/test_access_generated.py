"""Access rules, generated from the URL configuration: every route that takes an id, asked by every persona.

The routes are read from `get_resolver()` (the pages, the viewflow site, the API and the admin), so a new
route is covered without editing this file. Each int kwarg is filled from `ID_KINDS` by its name and the
route's name; a route with an id this file does not know fails, naming the route, until someone decides
what its id is. Expected answers:

- anonymous: a page redirects to the login, the API answers 401;
- an id the persona may not see answers exactly as an id that does not exist (404, the same body);
- an id the persona sees but may not act on answers 403 (an auditor changes nothing anywhere);
- no refusal names anything of the foreign object (its unit where foreign, narrative, file name, key).

The objects are made once for the module through the real actions, inside a transaction rolled back
at the end; each test's own transaction is a savepoint inside it.
"""

import fnmatch
import json
import re
from datetime import date
from typing import NamedTuple

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls import resolve as resolve_url
from django.urls.converters import IntConverter
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from assignments import plans
from assignments.models import Assignment, Indicator, Measure
from permissions import roles
from permissions.checks import ATTACH, can, people_with
from permissions.roles import assign_role, resolve
from workflows import actions, history, notifications, rounds
from workflows.models import Notification
from workflows.registry import ACTIONS

# ---------------------------------------------------------------------------------------------
# The routes


class Route(NamedTuple):
    path: str  # the full route, e.g. "api/v1/assignments/<int:pk>/"
    name: str | None  # with its namespaces, e.g. "api:assignment-detail"
    converters: dict

    def __str__(self):
        return self.name or self.path

    @property
    def is_api(self):
        return self.path.startswith("api/")

    def url(self, **values):
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match[1]]), self.path)


def _walk(patterns, prefix="", namespace=None, converters=None):
    for pattern in patterns:
        found = {**(converters or {}), **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace, found)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield Route(prefix + str(pattern.pattern), name, found)


ROUTES = list({route.path: route for route in _walk(get_resolver().url_patterns)}.values())
ID_ROUTES = [
    route
    for route in ROUTES
    if not route.path.startswith("admin/") and any(isinstance(c, IntConverter) for c in route.converters.values())
]
# the admin's login and logout are the way in and out, not a place to see anything
ADMIN_ROUTES = [r for r in ROUTES if r.path.startswith("admin/") and r.name not in ("admin:login", "admin:logout")]

# What an int kwarg names: by the kwarg's name, then for `pk` by the route's name (or its path when it has
# none), the first pattern that matches. A route whose id matches nothing here fails the test.
ID_KINDS = {
    "attachment_pk": "attachment",
    "year": "year",
    "number": "measure",
    "pk": [
        ("api:attachment-*", "attachment"),
        ("assignments:download", "attachment"),
        ("assignments:checkpoint", "checkpoint"),
        ("audit:checkpoint", "checkpoint"),
        ("api:assignment-*", "assignment"),
        ("assignments:detail", "assignment"),
        ("assignments:act", "assignment"),
        ("assignments:upload", "assignment"),
        ("assignments:detach", "assignment"),
        ("api/v1/assignments/<int:pk>/actions/<str:action>/", "assignment"),  # an unknown action's answer
        ("notifications:*", "notification"),
    ],
}
# The values tried for a str kwarg, by its name.
STR_VALUES = {"action": [*ACTIONS, "no_such_action"], "extension": ["xlsx", "csv"]}

NO_ID = 987_654_321
MISSING = {
    "assignment": NO_ID,
    "attachment": NO_ID,
    "checkpoint": NO_ID,
    "notification": NO_ID,
    "year": 2099,
    "measure": 99,
}


def id_kind(route, kwarg):
    kinds = ID_KINDS.get(kwarg)
    if isinstance(kinds, str):
        return kinds
    for pattern, kind in kinds or ():
        if fnmatch.fnmatchcase(route.name or route.path, pattern):
            return kind
    pytest.fail(f"路由 {route}({route.path})的参数 {kwarg} 不知是哪种对象的 id:请在 ID_KINDS 中写明")


# ---------------------------------------------------------------------------------------------
# The world, made once through the real actions

PDF = b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF"

# persona → (role, unit)
PERSONAS = {
    "lishi_clerk": ("county_clerk", "离石区"),
    "lishi_head": ("county_head", "离石区"),
    "xingxian_clerk": ("county_clerk", "兴县"),
    "xingxian_head": ("county_head", "兴县"),
    "jizheng_chief": ("section_chief", "基政科"),  # the coordinator, leads measure 7
    "jizheng_staff": ("section_staff", "基政科"),
    "sheguan_chief": ("section_chief", "社管科"),  # co-operates on measure 7
    "sheshi_staff": ("section_staff", "社事科"),  # co-operates on measure 7
    "quhua_chief": ("section_chief", "区划科"),  # no part in measure 7
    "leader": ("leader", None),
    "auditor": ("auditor", None),
}
COUNTY_OF = {name: unit for name, (role, unit) in PERSONAS.items() if role.startswith("county")}


class World(NamedTuple):
    users: dict
    tokens: dict
    objects: dict  # label → (kind, object)
    foreign: dict  # persona → labels of objects they may not see
    secrets: dict  # label → strings only that object's viewers may read


def _make_world():
    users = {}
    for username, (role, unit) in PERSONAS.items():
        user = get_user_model().objects.create_user(username, password="x", first_name=username)
        assign_role(user, role, resolve(role, unit))
        users[username] = user
    tokens = {username: Token.objects.create(user=user).key for username, user in users.items()}
    chief = users["jizheng_chief"]
    colleague = get_user_model().objects.create_user("sheguan_staff", password="x")  # 社管科's report may be handed on
    assign_role(colleague, "section_staff", resolve("section_staff", "社管科"))
    round_, _ = rounds.open_round(2024, by=chief, measures=[Measure.objects.get(number=7)], reports=True)

    def get(item=None, unit=None):
        return Assignment.objects.get(round=round_, item__code=item, unit__name=unit) if item else None

    def upload(assignment, by, name):
        return actions.attach(assignment, by=by, upload=SimpleUploadedFile(name, PDF, "application/pdf"))

    def values(assignment):
        return {str(pk): "50" for pk in Indicator.objects.filter(item=assignment.item).values_list("pk", flat=True)}

    lishi = get("7a", "离石区")
    lishi = actions.start(lishi, by=users["lishi_clerk"], version=lishi.version)
    lishi_pending = upload(lishi, users["lishi_clerk"], "离石区待报送材料.pdf")

    xing = get("7a", "兴县")
    xing = actions.start(xing, by=users["xingxian_clerk"], version=xing.version)
    xing_file = upload(xing, users["xingxian_clerk"], "兴县台账材料.pdf")
    xing = actions.submit(
        xing,
        by=users["xingxian_clerk"],
        version=xing.version,
        narrative="兴县独有的工作情况甲乙丙",
        indicators=values(xing),
    )
    xing_b = get("7b", "兴县")
    xing_b = actions.start(xing_b, by=users["xingxian_clerk"], version=xing_b.version)
    xing_pending = upload(xing_b, users["xingxian_clerk"], "兴县尚未报送材料.pdf")

    sheguan = Assignment.objects.get(round=round_, item=None, unit__name="社管科")
    sheguan = actions.start(sheguan, by=users["sheguan_chief"], version=sheguan.version)
    sheguan = actions.submit(
        sheguan, by=users["sheguan_chief"], version=sheguan.version, narrative="社管科年度报告丁戊己"
    )
    sheshi = Assignment.objects.get(round=round_, item=None, unit__name="社事科")
    checkpoint = history.take_checkpoint()
    for pk in Notification.objects.values_list("pk", flat=True):  # delivered, as the task worker would
        notifications.deliver.call(pk)
    notices = {}  # one notification of each persona who got one, labelled by its recipient
    for notice in Notification.objects.order_by("pk").select_related("recipient"):
        notices.setdefault(f"通知:{notice.recipient.username}", notice)

    objects = {
        "离石区7a": ("assignment", lishi),
        "兴县7a": ("assignment", xing),
        "兴县7b": ("assignment", xing_b),
        "社管科报告": ("assignment", sheguan),
        "社事科报告": ("assignment", sheshi),
        "离石区未报送附件": ("attachment", lishi_pending),
        "兴县已报送附件": ("attachment", xing_file),
        "兴县未报送附件": ("attachment", xing_pending),
        "检查点": ("checkpoint", checkpoint),
        "2024年度": ("year", round_.year),
        "第7项": ("measure", 7),
        **{label: ("notification", notice) for label, notice in notices.items()},
    }
    reports = {"社管科报告", "社事科报告"}
    lishi_side = {"离石区7a", "离石区未报送附件"}
    xing_side = {"兴县7a", "兴县7b", "兴县已报送附件", "兴县未报送附件"}
    pending = {"离石区未报送附件", "兴县未报送附件"}
    foreign = {persona: {label for label in notices if label != f"通知:{persona}"} for persona in PERSONAS}
    for persona, labels in {
        "lishi_clerk": xing_side | reports,
        "lishi_head": xing_side | reports,
        "xingxian_clerk": lishi_side | reports,
        "xingxian_head": lishi_side | reports,
        "jizheng_chief": pending,
        "jizheng_staff": pending,
        "sheguan_chief": pending | {"社事科报告"},
        "sheshi_staff": pending | {"社管科报告"},
        "quhua_chief": lishi_side | xing_side | reports,
        "leader": pending,
        "auditor": pending,
    }.items():
        foreign[persona] |= labels
    secrets = {
        "兴县7a": ["兴县独有的工作情况甲乙丙", xing.key],
        "兴县7b": [xing_b.key],
        "离石区7a": [lishi.key],
        "社管科报告": ["社管科年度报告丁戊己", sheguan.key],
        "社事科报告": [sheshi.key],
        "离石区未报送附件": ["离石区待报送材料"],
        "兴县已报送附件": ["兴县台账材料"],
        "兴县未报送附件": ["兴县尚未报送材料"],
        **{label: [notice.subject] for label, notice in notices.items()},
    }
    return World(users, tokens, objects, foreign, secrets)


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker, tmp_path_factory):
    """The objects of every test here, rolled back after the module; files go to a folder of its own."""
    from django.conf import settings

    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock():
        patch.setattr(settings, "MEDIA_ROOT", tmp_path_factory.mktemp("media"))
        patch.setattr(settings, "PASSWORD_HASHERS", ["django.contrib.auth.hashers.MD5PasswordHasher"])
        patch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "100000/min", "anon": "100000/min"})
        with transaction.atomic():
            if not plans.Plan.objects.exists():  # a transactional test before this module emptied the tables
                plans.load(plans.read(settings.PLAN_FILE))
            yield _make_world()
            transaction.set_rollback(True)


# ---------------------------------------------------------------------------------------------
# Asking


class Asker:
    """Sends one route's request as one persona (None: anonymous): pages by session, the API by token."""

    def __init__(self, world, persona, route, method):
        self.world, self.persona, self.route, self.method = world, persona, route, method
        self.client = Client()
        self.headers = {}
        if persona and route.is_api:
            self.headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[persona]}"
        elif persona:
            self.client.force_login(world.users[persona])

    def __call__(self, values, objects):
        url = self.route.url(**values)
        if self.method == "GET":
            return self.client.get(url, **self.headers)
        body = _body(self.route, values, objects)
        if "file" in body:
            return self.client.post(url, body, **self.headers)
        if self.route.is_api:
            return self.client.post(url, json.dumps(body), content_type="application/json", **self.headers)
        return self.client.post(url, body, **self.headers)


def _action_of(route, values):
    if "action" in values:
        return values["action"]
    if route.name and route.name.startswith("api:assignment-") and route.name[15:] in ACTIONS:
        return route.name[15:]
    return None


def _body(route, values, objects):
    """A minimal valid body, so that a refusal is due to who asks, not to what they sent."""
    assignment = next((obj for _, kind, obj in objects.values() if kind == "assignment"), None)
    assignment = None if isinstance(assignment, int) else assignment
    version = getattr(assignment, "version", 1)
    if route.path.endswith("/attachments/"):
        return {"file": SimpleUploadedFile("新材料.pdf", PDF, "application/pdf")}
    body = {"version": version, "reason": "依规办理", "comment": "依规办理", "unit": "兴县", "message": "请按期报送"}
    body["due"] = date(2024, 12, 31).isoformat()
    entry = ACTIONS.get(_action_of(route, values))
    for spec in entry.fields if entry else ():
        if spec.kind == "text":
            body[spec.name] = "依规办理"
        elif spec.kind == "bool":
            body[spec.name] = True if route.is_api else "true"
        elif spec.kind == "user":  # a colleague the assignment may be handed to
            colleagues = (
                people_with(roles.WORK, assignment.unit_id).exclude(pk=assignment.assignee_id) if assignment else []
            )
            body[spec.name] = next((user.username for user in colleagues), "nobody")
        elif spec.kind == "indicators" and assignment and assignment.item_id:
            asked = Indicator.objects.filter(item=assignment.item).values_list("pk", flat=True)
            if route.is_api:
                body[spec.name] = {str(pk): "50" for pk in asked}
            else:
                body.update({f"indicator_{pk}": "50" for pk in asked})
    return body


def _allowed(route, values, persona, objects, world):
    """Whether the persona may take the route's action on these objects; None when this file cannot tell."""
    assignment = next((obj for _, kind, obj in objects.values() if kind == "assignment"), None)
    assignment = None if isinstance(assignment, int) else assignment
    user = world.users[persona]
    action = _action_of(route, values)
    if action is not None and action not in ACTIONS:
        return None  # an unknown action: refused as unknown, whoever asks
    if assignment is not None and action in ACTIONS:
        return can(user, action, Assignment.objects.get(pk=assignment.pk))
    if assignment is not None and (route.path.endswith("/attachments/") or "attachment_pk" in values):
        return can(user, ATTACH, Assignment.objects.get(pk=assignment.pk))
    if persona == "auditor":
        return False  # an auditor reads everything and changes nothing
    return None


def _shape(response, values):
    """What an answer shows, without what differs between requests (the id asked, a CSRF token)."""
    text = response.content.decode(errors="replace")
    for value in values.values():
        text = text.replace(f"/{value}/", "/ID/")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'csrf[^"]*"[^"]*"', "", text)
    return response.status_code, response.get("Content-Type"), text


def _fills(route, world, persona):
    """Every assignment of values to the route's kwargs: for each int kwarg in turn, the missing id and the
    persona's foreign ids of its kind, the other kwargs holding an id the persona sees. Yields
    (values, {kwarg: (label, kind, object)}, which kwarg is varied or None)."""
    kinds = {kwarg: id_kind(route, kwarg) for kwarg, c in route.converters.items() if isinstance(c, IntConverter)}
    strings = [kwarg for kwarg in route.converters if kwarg not in kinds]
    for kwarg in strings:
        if kwarg not in STR_VALUES:
            pytest.fail(f"路由 {route}({route.path})的参数 {kwarg} 不知该填什么:请在 STR_VALUES 中写明")
    foreign = world.foreign.get(persona, set())

    def of_kind(kind, visible):
        return [
            (label, obj) for label, (k, obj) in world.objects.items() if k == kind and (label not in foreign) == visible
        ]

    def value(obj):
        return obj if isinstance(obj, int) else obj.pk

    visible = {kwarg: of_kind(kind, True) for kwarg, kind in kinds.items()}
    # objects of one route belong together: an attachment of the assignment named beside it
    combos = []
    for kwarg, kind in kinds.items():
        for label, obj in visible[kwarg]:
            combos.append({kwarg: (label, kind, obj)})
    if len(kinds) > 1:
        combos = [_together(kinds, visible)] if _together(kinds, visible) else []
    for string_values in _product({kwarg: STR_VALUES[kwarg] for kwarg in strings}):
        if resolve_url(route.url(**{**string_values, **dict.fromkeys(kinds, 1)})).route != route.path:
            continue  # these values lead to another route (a named action beside the unknown one's)
        for base in combos or [{}]:
            if set(base) != set(kinds):
                continue
            yield {**string_values, **{k: value(o) for k, (_, _, o) in base.items()}}, base, None
            if any(string_values[k] != _resolving(route, k)[0] for k in strings):
                continue  # a foreign id is asked once per route, with the first value that reaches it
            for varied, kind in kinds.items():
                for label, obj in [("不存在", MISSING[kind]), *of_kind(kind, False)]:
                    objects = {**base, varied: (label, kind, obj)}
                    yield {**string_values, **{k: value(o) for k, (_, _, o) in objects.items()}}, objects, varied


def _resolving(route, kwarg):
    """The values of a str kwarg that reach this route (not another one matched before it)."""
    ints = {k: 1 for k, c in route.converters.items() if isinstance(c, IntConverter)}
    others = {k: STR_VALUES[k][0] for k in route.converters if k not in ints and k != kwarg}
    return [v for v in STR_VALUES[kwarg] if resolve_url(route.url(**ints, **others, **{kwarg: v})).route == route.path]


def _together(kinds, visible):
    """One visible object per kwarg that belong together (an attachment of the assignment beside it)."""
    assignment_kwarg = next((k for k, kind in kinds.items() if kind == "assignment"), None)
    for label, obj in visible.get(assignment_kwarg, []):
        chosen = {assignment_kwarg: (label, "assignment", obj)}
        for kwarg, kind in kinds.items():
            if kwarg == assignment_kwarg:
                continue
            match = [(lab, o) for lab, o in visible[kwarg] if kind != "attachment" or o.assignment_id == obj.pk]
            if not match:
                break
            chosen[kwarg] = (match[0][0], kind, match[0][1])
        else:
            return chosen
    return None


def _product(options):
    result = [{}]
    for kwarg, values in options.items():
        result = [{**done, kwarg: value} for done in result for value in values]
    return result


def _method(route, world):
    """GET for pages and downloads; POST for a route that refuses GET with 405."""
    asker = Asker(world, "leader", route, "GET")
    values = {k: MISSING.get(id_kind(route, k), 1) if isinstance(c, IntConverter) else STR_VALUES.get(k, ["x"])[0]
              for k, c in route.converters.items()}  # fmt: skip
    return "POST" if asker(values, {}).status_code == 405 else "GET"


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_a_route_that_takes_an_id_answers_every_persona_as_the_access_rules_say(route, world, db):
    method = _method(route, world)
    problems = []
    for persona in [None, *PERSONAS]:
        asker = Asker(world, persona, route, method)
        missing_answer = {}
        for values, objects, varied in _fills(route, world, persona):
            who = persona or "匿名"
            described = ", ".join(
                [f"{k}={label}" for k, (label, _, _) in objects.items()]
                + [f"{k}={v}" for k, v in values.items() if k not in objects]
            )
            if persona is None:
                if varied is not None:
                    continue
                response = asker(values, objects)
                if route.is_api and response.status_code != 401:
                    problems.append(f"{who} {method} {described}: 应为 401,实为 {response.status_code}")
                elif not route.is_api and not (
                    response.status_code == 302 and response["Location"].startswith("/accounts/login/")
                ):
                    problems.append(f"{who} {method} {described}: 应转到登录页,实为 {response.status_code}")
                continue
            if varied is None:  # every id one the persona sees
                if method == "POST" and _allowed(route, values, persona, objects, world) is not False:
                    continue  # allowed, or not this file's to tell: what the action does is tested elsewhere
                response = asker(values, objects)
                # a checkpoint downloads for auditors only; a notification opens what it tells of
                expected = (403,) if method == "POST" else (200, 302, 403)
                if response.status_code not in expected:
                    problems.append(f"{who} {method} {described}: 应为 {expected},实为 {response.status_code}")
                continue
            response = asker(values, objects)
            key = (tuple(sorted((k, v) for k, v in values.items() if k != varied)), varied)
            label = objects[varied][0]
            if label == "不存在":
                missing_answer[key] = (response, values)
                # a page may refuse with a message on the page it leads back to, as it does any refusal
                refusals = (403, 404) if route.is_api or method == "GET" else (302, 403, 404)
                if response.status_code not in refusals:
                    problems.append(f"{who} {method} {described}: 不存在的 id 应为 404,实为 {response.status_code}")
                continue
            missing, missing_values = missing_answer[key]
            if _shape(response, values) != _shape(missing, missing_values):
                problems.append(
                    f"{who} {method} {described}: 看不到的对象应与不存在的 id 答复相同,"
                    f"实为 {response.status_code} 对 {missing.status_code}"
                )
            body = response.content.decode(errors="replace")
            for secret in world.secrets.get(label, []):
                if secret in body:
                    problems.append(f"{who} {method} {described}: 答复中出现了 {label} 的“{secret}”")
            unit = _unit_name(objects[varied])
            if persona in COUNTY_OF and unit and unit != COUNTY_OF[persona] and unit in body:
                problems.append(f"{who} {method} {described}: 答复中出现了别县的名称 {unit}")
    assert not problems, f"{route}({route.path}):\n" + "\n".join(problems)


def _unit_name(entry):
    _, kind, obj = entry
    if kind == "assignment" and not isinstance(obj, int):
        return obj.unit.name
    if kind == "attachment" and not isinstance(obj, int):
        return obj.assignment.unit.name
    return None


def test_every_route_with_an_id_is_asked_so_a_new_route_cannot_slip_past(world):
    assert {"api:assignment-detail", "assignments:detail", "assignments:download", "api:attachment-download"} <= {
        route.name for route in ID_ROUTES
    }
    for route in ID_ROUTES:  # each id is known, or the parametrized test above fails naming the route
        for kwarg, converter in route.converters.items():
            if isinstance(converter, IntConverter):
                assert id_kind(route, kwarg) in MISSING


def test_an_unknown_kind_of_id_fails_the_test_naming_its_route():
    route = Route("ledgers/<int:ledger_pk>/", "assignments:ledger-x", {"ledger_pk": IntConverter()})
    with pytest.raises(pytest.fail.Exception, match="assignments:ledger-x"):
        id_kind(route, "ledger_pk")


# Every persona lacks is_staff alike; these stand for them (the admin's routes are many).
ADMIN_PERSONAS = [None, "lishi_clerk", "jizheng_chief", "leader", "auditor"]


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=str)
def test_the_admin_sends_anyone_not_staff_to_its_login(route, world, db):
    values = {kwarg: "assignments" if kwarg == "app_label" else 1 for kwarg in route.converters}
    if "(?P<app_label>" in route.path:
        url = "/admin/assignments/"
    elif "(?P<url>" in route.path:
        url = "/admin/nowhere/"
    else:
        url = route.url(**values)
    for persona in ADMIN_PERSONAS:
        client = Client()
        if persona:
            client.force_login(world.users[persona])
        response = client.get(url)
        assert response.status_code == 302, (persona, url, response.status_code)
        logins = ("/admin/login/",) if persona else ("/admin/login/", "/accounts/login/")  # the site's, for anonymous
        assert response["Location"].startswith(logins), (persona, url, response["Location"])
