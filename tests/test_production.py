"""Production as an operator meets it: DEBUG off, collected static files, the configured database."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from assignments.models import Assignment

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-for-tests",
    "HISTORY_KEY": "5f" * 32,
    "ALLOWED_HOSTS": "duban.example.org",
}


def run_python(code_or_args, **env):
    """Run Python in a fresh process with the production environment (plus `env`); its completed process."""
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL"}}
    environment.update(PRODUCTION_ENV, **env)
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """STATIC_ROOT filled by `collectstatic` with DEBUG off, as a deployment does it."""
    root = tmp_path_factory.mktemp("static")
    done = run_python(["manage.py", "collectstatic", "--no-input"], STATIC_ROOT=str(root))
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.fixture
def production(settings, collected_static):
    """This process's settings as in production: DEBUG off and the manifest storage over collected files."""
    settings.DEBUG = False
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"}}
    return collected_static


def test_collectstatic_writes_the_manifest_although_viewflow_names_fonts_it_does_not_ship(collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    assert "duban.css" in manifest
    dead = "viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css"
    assert "url('./Roboto-Thin.woff2')" in (collected_static / manifest[dead]).read_text()  # left as written
    live = (collected_static / manifest["viewflow/fonts/roboto/roboto-fontface.css"]).read_text()
    assert re.search(r"Roboto-Thin\.[0-9a-f]{12}\.woff2", live)  # a font that exists gets its hashed name


def assert_served_with_css(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', response.content.decode())
    assert stylesheets, url
    for href in stylesheets:
        assert re.search(r"\.[0-9a-f]{12}\.css$", href), href  # the hashed name from the manifest
        css = client.get(href)
        assert css.status_code == 200, href
        assert css["Content-Type"].startswith("text/css")


def test_the_login_page_a_list_and_a_detail_answer_with_debug_off(production, client, county_clerk):
    call_command("open_round", "2024")
    assignment = Assignment.objects.filter(unit__name="离石区").first()
    assert_served_with_css(client, reverse("login"))
    client.force_login(county_clerk)
    assert_served_with_css(client, reverse("assignments:index"))
    assert_served_with_css(client, reverse("assignments:detail", args=[assignment.pk]))


def test_a_sqlite_database_named_by_database_url_gets_immediate_transactions_wal_and_a_busy_timeout(tmp_path):
    database = tmp_path / "named.sqlite3"
    done = run_python(
        "import json, django; django.setup()\n"
        "from django.conf import settings; from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode'); mode = cursor.fetchone()[0]\n"
        "print(json.dumps({'options': settings.DATABASES['default']['OPTIONS'], 'journal_mode': mode}))",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["options"]["transaction_mode"] == "IMMEDIATE"
    assert seen["options"]["timeout"] == 20
    assert seen["journal_mode"] == "wal"  # the init command ran on the named file


def run_browser_set_up(tmp_path, uid, apt_get=True):
    """`.ci/browser` on a machine without Chromium, as user `uid`, with a stand-in apt-get that records its calls."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    if apt_get:
        (fake_bin / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "apt.log"}\n')
    for tool in fake_bin.iterdir():
        tool.chmod(0o755)
    path = f"{fake_bin}:/usr/bin:/bin" if apt_get else f"{fake_bin}"
    environment = {"PATH": path, "CHROMIUM": str(tmp_path / "no-chromium")}
    done = subprocess.run(
        ["/bin/bash", ".ci/browser"], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )
    calls = (tmp_path / "apt.log").read_text().splitlines() if (tmp_path / "apt.log").exists() else []
    return done, calls


def test_make_test_sets_up_the_browser_before_anything_else():
    # run outside any calling make (`make test` itself), whose flags would add "Entering directory" lines
    environment = {name: value for name, value in os.environ.items() if not name.startswith("MAKE")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=settings.BASE_DIR, env=environment,
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.stdout.splitlines()[0] == ".ci/browser"


def test_the_browser_set_up_installs_debians_chromium_and_a_chinese_font_as_root(tmp_path):
    done, calls = run_browser_set_up(tmp_path, uid=0)
    assert calls[0] == "update -qq"
    assert calls[1] == "install -y -qq chromium fonts-wqy-microhei fontconfig"
    assert done.returncode == 1  # the stand-in installed nothing, and that is said
    assert "安装后仍不可用" in done.stderr


def test_a_user_who_may_not_install_is_told_the_one_command_at_once(tmp_path):
    done, calls = run_browser_set_up(tmp_path, uid=1000)
    assert done.returncode == 1
    assert calls == []
    assert "请运行:sudo .ci/browser" in done.stderr


def test_a_machine_without_apt_get_is_told_what_to_install(tmp_path):
    done, calls = run_browser_set_up(tmp_path, uid=0, apt_get=False)
    assert done.returncode == 1
    assert "chromium fonts-wqy-microhei" in done.stderr
