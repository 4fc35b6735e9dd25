"""The API against its own OpenAPI schema (`/api/schema/`), by schemathesis, as every persona.

For each operation of the schema and each persona (anonymous too, by token otherwise), schemathesis
generates a few requests (deterministic, no network: Django's WSGI application in this process) with the
ids of the objects of `tests.test_access_generated` (made through the real actions) and a missing one.
Every answer must be no server error, a status code the schema names, a body the schema describes and
the content type it declares; after every refused call (4xx) the database and the media folder are
exactly as before.
"""

from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.db.models import Count, Max, Sum
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assignments.models import Assignment, Attachment
from config.wsgi import application
from tests.test_access_generated import MISSING, PERSONAS, world_fixture  # noqa: F401 - `world`, made once per module
from workflows.models import Event

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
EXAMPLES = 4  # per operation and persona


@pytest.fixture
def connection_kept():
    """Django's WSGI handler closes the database connection after each request; the test's transaction
    lives on it (django.test.Client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def fingerprint():
    """What a refused call must leave alone: the assignments, their histories, the files, the media folder."""
    rows = Assignment.objects.aggregate(count=Count("pk"), updated=Max("updated"), versions=Sum("version"))
    root = Path(django_settings.MEDIA_ROOT)
    media = sorted((str(path.relative_to(root)), path.stat().st_size) for path in root.rglob("*") if path.is_file())
    return rows, Event.objects.count(), Attachment.objects.count(), media


def _ids(world, kind):
    found = [obj if isinstance(obj, int) else obj.pk for k, obj in world.objects.values() if k == kind]
    return [*found, MISSING[kind]]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_api_answers_every_persona_within_its_schema_and_a_refusal_changes_nothing(
    operation, world, db, connection_kept
):
    ids = {"id": _ids(world, "assignment") + _ids(world, "attachment"), "year": _ids(world, "year")}

    for persona in [None, *PERSONAS]:
        _asker(operation, ids, persona, world)()


def _asker(operation, ids, persona, world):
    headers = {"Authorization": f"Token {world.tokens[persona]}"} if persona else {}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def ask(case, data):
        for name in case.path_parameters or {}:
            if name in ids:
                case.path_parameters[name] = data.draw(st.sampled_from(ids[name]), label=name)
        before = fingerprint()
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if 400 <= response.status_code < 500:
            assert fingerprint() == before, f"{persona} {case.method} {case.formatted_path}: 拒绝后数据有变化"

    return ask


def test_the_plan_route_documents_the_400_it_answers_for_an_unknown_plan(client, world, db):
    client.force_login(world.users["lishi_clerk"])
    assert client.get("/api/v1/plan/", {"plan": "没有这个文号"}).status_code == 400
    documented = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]["/api/v1/plan/"]["get"]
    assert "400" in documented["responses"]
