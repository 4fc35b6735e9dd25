"""A database that goes away mid-request answers 503 (a Chinese page, or the API's JSON), never a traceback."""

from unittest import mock

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.test import Client
from django.urls import reverse

from assignments import selectors


def lost(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_page_whose_query_loses_the_database_answers_503_in_chinese_without_a_traceback(client, county_clerk):
    client.force_login(county_clerk)
    with mock.patch.object(selectors, "assignment_list", lost):
        response = client.get(reverse("assignments:index"))
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "数据库暂时无法连接" in body and "Traceback" not in body and "server closed" not in body


def test_an_api_call_whose_query_loses_the_database_answers_503_unavailable_in_json(client, county_clerk):
    client.force_login(county_clerk)
    with mock.patch.object(selectors, "assignment_list", side_effect=InterfaceError("connection already closed")):
        response = client.get("/api/v1/assignments/")
    assert response.status_code == 503
    assert response.json() == {"code": "unavailable", "detail": "数据库暂时无法连接,请稍后再试。"}


def test_losing_the_database_before_the_view_runs_answers_503_too(settings, county_clerk):
    """The session is read by a middleware, outside any view: Django's error handler answers there."""
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(county_clerk)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", lost):
        page, api = client.get(reverse("assignments:index")), client.get("/api/v1/assignments/")
    assert page.status_code == 503 and "数据库暂时无法连接" in page.content.decode()
    assert api.status_code == 503 and api.json()["code"] == "unavailable"


def test_other_errors_are_still_server_errors(client, county_clerk):
    client.force_login(county_clerk)
    with mock.patch.object(selectors, "assignment_list", side_effect=ValueError("a bug")), pytest.raises(ValueError):
        client.get(reverse("assignments:index"))


def test_a_connection_lost_between_two_queries_of_a_request_answers_503_and_the_next_request_works(
    committed, plan, county_clerk
):
    """On PostgreSQL the server ends the request's own backend (pg_terminate_backend from another connection)
    just before the view's first query; on SQLite the nearest failure is a lock held past the timeout."""
    client = Client()
    client.force_login(county_clerk)

    def lose_the_connection(execute, sql, params, many, context):
        if "assignments_assignment" in sql:
            if connection.vendor == "postgresql":
                terminate(connection.connection.info.backend_pid)
            else:
                raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(lose_the_connection):
        response = client.get("/api/v1/assignments/")
    assert response.status_code == 503 and response.json()["code"] == "unavailable"
    close_old_connections()  # as every server does when a request starts: the broken connection is dropped
    assert client.get("/api/v1/assignments/").status_code == 200


def terminate(pid):
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
