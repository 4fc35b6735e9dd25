"""Serving in production: the deploy check, `make serve`, the security headers, /healthz, the logs, the media store."""

import http.client
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from rest_framework.test import APIClient

from assignments.models import Assignment, Measure
from config import gunicorn as gunicorn_settings
from config import health
from tests.test_production import PRODUCTION_ENV, run_python
from workflows import actions, files, rounds

from .workflows.conftest import indicators

# The production environment the README documents (secrets made up for the test).
DOCUMENTED_ENV = {
    **PRODUCTION_ENV,
    "SECRET_KEY": "k7Qv9-documented-production-secret-key-of-fifty-or-more-characters-x2Zr",
    "CSRF_TRUSTED_ORIGINS": "https://duban.example.org",
    "BEHIND_PROXY": "true",
}


def test_the_deploy_check_passes_with_the_documented_production_environment():
    # the test runner's own DJANGO_ALLOW_ASYNC_UNSAFE is not part of a deployment
    done = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **DOCUMENTED_ENV, DJANGO_ALLOW_ASYNC_UNSAFE=""
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr + done.stdout
    assert "no issues" in done.stdout


def production_settings(**env):
    done = run_python(
        "import json, django; django.setup(); from django.conf import settings as s\n"
        "print(json.dumps({name: getattr(s, name, None) for name in ["
        "'SESSION_COOKIE_AGE', 'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS',"
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE']}))",
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_session_length_and_the_proxy_header_come_from_the_environment():
    behind = production_settings(**DOCUMENTED_ENV, SESSION_HOURS="2")
    assert behind["SESSION_COOKIE_AGE"] == 2 * 3600
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert behind["SECURE_SSL_REDIRECT"] and behind["SESSION_COOKIE_SECURE"] and behind["CSRF_COOKIE_SECURE"]
    assert behind["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    alone = production_settings(**PRODUCTION_ENV)
    assert alone["SESSION_COOKIE_AGE"] == 8 * 3600
    assert alone["SECURE_PROXY_SSL_HEADER"] is None  # a client's own X-Forwarded-Proto means nothing then


def test_gunicorn_runs_two_workers_per_core_plus_one_at_most_twelve():
    assert [gunicorn_settings.workers_for(cores) for cores in (1, 2, 4, 16)] == [3, 5, 9, 12]
    assert "%({x-request-id}o)s" in gunicorn_settings.access_log_format


def serve_environment(tmp_path, **env):
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL"}}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'served.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        WEB_CONCURRENCY="2",
        **env,
    )
    return environment


@pytest.mark.parametrize("missing", ["SECRET_KEY", "HISTORY_KEY"])
def test_make_serve_refuses_to_start_without_its_keys_and_says_so_in_both_languages(tmp_path, missing):
    environment = serve_environment(tmp_path, **DOCUMENTED_ENV)
    del environment[missing]
    done = subprocess.run(
        [sys.executable, "-m", "config.serve"], cwd=settings.BASE_DIR, env=environment, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"无法启动:生产环境必须设置 {missing}" in done.stderr
    assert f"Cannot start: production needs {missing}" in done.stderr
    assert not (tmp_path / "served.sqlite3").exists()  # refused before touching anything


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port, path, **headers):
    """GET `path` from 127.0.0.1:`port`, redirects not followed: status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={name.replace("_", "-"): value for name, value in headers.items()})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def children_of(pid):
    listed = subprocess.run(["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return listed.splitlines()


def test_make_serve_runs_gunicorn_with_debug_off_static_files_and_the_task_worker(tmp_path):
    port = free_port()
    environment = serve_environment(tmp_path, **{**DOCUMENTED_ENV, "DEBUG": "true"}, BIND=f"127.0.0.1:{port}")
    server = subprocess.Popen(
        [sys.executable, "-m", "config.serve"], cwd=settings.BASE_DIR, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    proxied = {"Host": "duban.example.org", "X_Forwarded_Proto": "https"}
    try:
        for _ in range(240):  # migrations and collectstatic come first
            assert server.poll() is None, server.stdout.read()
            try:
                status, _, body = fetch(port, "/healthz")
                break
            except OSError:
                time.sleep(0.5)
        assert (status, body) == (200, b"ok")  # probed over plain HTTP by address, as a load balancer does
        status, headers, body = fetch(port, "/accounts/login/", **proxied)
        assert status == 200
        assert "DEBUG" not in body.decode() and "Content-Security-Policy" in headers
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', body.decode())[1]  # DEBUG is off
        assert fetch(port, stylesheet, **proxied)[0] == 200  # WhiteNoise, from the collected files
        status, headers, _ = fetch(port, "/accounts/login/", Host="duban.example.org")
        assert status == 301 and headers["Location"].startswith("https://")  # plain HTTP is sent to HTTPS
        processes = children_of(server.pid)
        assert any("gunicorn" in line for line in processes)
        assert any("db_worker" in line for line in processes) == ("db_worker" in _commands())
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output[-3000:]


def _commands():
    from django.core.management import get_commands

    return get_commands()


# Content-Security-Policy


def test_pages_the_admin_and_the_api_docs_carry_a_content_security_policy(client, county_clerk):
    for url in [reverse("login"), reverse("api-docs")]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "form-action 'self'" in policy and "img-src 'self' data:" in policy
        assert re.search(r"script-src 'self'(;|$)", policy)  # no inline scripts, no eval
    client.force_login(county_clerk)
    assert "default-src 'self'" in client.get(reverse("assignments:index"))["Content-Security-Policy"]


def test_swagger_uis_start_script_is_a_file_of_its_own(client):
    page = client.get(reverse("api-docs")).content.decode()
    assert re.search(r'<script src="/api/docs/\?script="', page)
    assert not re.search(r"<script>\s", page)
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# /healthz


def test_healthz_answers_ok_without_login_session_or_user_lookup(
    db, client, settings, tmp_path, django_assert_num_queries
):
    settings.MEDIA_ROOT = tmp_path
    with django_assert_num_queries(1):  # SELECT 1
        response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")  # a probe by address, not a known host
    assert (response.status_code, response.content) == (200, b"ok")
    assert "sessionid" not in response.cookies and "Vary" not in response


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable():
        raise OperationalError("connection refused by 10.0.0.7")

    monkeypatch.setattr(health, "database_reachable", unreachable)
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b"error")  # nothing about what or where


def test_healthz_answers_503_when_the_media_store_is_unreachable(db, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "not-mounted"
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b"error")
    (tmp_path / "not-mounted").mkdir()
    assert client.get("/healthz").status_code == 200


def test_healthz_is_not_throttled(db, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "user": "1/min"}}
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5


# Logs


def request_lines(caplog):
    return [record for record in caplog.records if record.name == "duban.requests"]


def test_a_request_logs_one_line_with_its_id_status_user_and_duration(client, county_clerk, caplog):
    client.force_login(county_clerk)
    caplog.set_level(logging.INFO)
    response = client.get(reverse("assignments:index") + "?narrative=secret", HTTP_X_REQUEST_ID="proxy-id-0123456789")
    assert response["X-Request-ID"] == "proxy-id-0123456789"  # the proxy's id, well formed: kept
    [line] = request_lines(caplog)
    assert line.request_id == "proxy-id-0123456789"
    assert re.fullmatch(rf"GET /assignments/ 200 \d+ms user={county_clerk.pk}", line.getMessage())


def test_a_malformed_request_id_is_replaced_and_an_anonymous_request_logs_no_user(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="bad id\nforged line")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    [line] = request_lines(caplog)
    assert line.request_id == response["X-Request-ID"] and line.getMessage().endswith("user=-")


def test_an_actions_line_carries_its_requests_id_and_no_record_holds_what_was_written(
    committed, plan, county_clerk, caplog
):
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    a = actions.start(a, by=county_clerk, version=a.version)
    api = APIClient()
    api.force_authenticate(county_clerk)
    narrative, notable = "离石区秘密叙述文本甲乙丙", "重要事项秘密文本丁戊"
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    response = api.post(
        f"/api/v1/assignments/{a.pk}/actions/submit/",
        {"version": a.version, "narrative": narrative, "notable": notable, "indicators": indicators(a)},
        format="json",
    )
    assert response.status_code == 200, response.content
    rid = response["X-Request-ID"]
    [action_line] = [record for record in caplog.records if record.name == "duban.events"]
    assert action_line.request_id == rid and "报送" in action_line.getMessage()
    [request_line] = request_lines(caplog)
    assert request_line.request_id == rid and " 200 " in request_line.getMessage()
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + repr(vars(record))
        assert narrative not in text and notable not in text


# Files through the storage API


def test_attachments_go_only_through_the_storage_api(
    settings, tmp_path, client, plan, county_clerk, section_chief, monkeypatch
):
    """With an in-memory store as the default storage, nothing appears under MEDIA_ROOT: no code reaches
    around the storage API to the file system."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
    a = actions.start(a, by=county_clerk, version=a.version)
    content = b"%PDF-1.4 kept in memory"
    kept = actions.attach(a, by=county_clerk, upload=SimpleUploadedFile("报告.pdf", content))
    again = actions.attach(a, by=county_clerk, upload=SimpleUploadedFile("副本.pdf", content))  # the same bytes
    dropped = actions.attach(a, by=county_clerk, upload=SimpleUploadedFile("错.pdf", b"%PDF-1.4 wrong"))
    assert default_storage.listdir(f"attachments/{kept.sha256[:2]}")[1] == [kept.sha256]  # once, by its hash
    assert kept.sha256 == again.sha256
    actions.detach(a, by=county_clerk, attachment_id=dropped.pk)
    client.force_login(county_clerk)
    download = client.get(reverse("assignments:download", args=[kept.pk]))
    assert b"".join(download.streaming_content) == content
    call_command("sweep_media", "--grace-minutes", "0", stdout=io.StringIO())
    assert default_storage.exists(files.name_of(kept.sha256))
    assert not default_storage.exists(files.name_of(dropped.sha256))
    assert client.get("/healthz").status_code == 200  # the media check asks the configured store too
    assert list(tmp_path.rglob("*")) == []
