"""Backup and restore, run as an operator runs them: `manage.py backup` and `restore` in processes of their own,
each on a database and media folder made for the test (a unique SQLite file, or on PostgreSQL a unique
database on the configured server), dropped afterwards."""

import contextlib
import copy
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

HISTORY_KEY = "6b" * 32
POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# The source's one report: 离石区 starts 7a of 2024, attaches a PDF and submits it.
SUBMIT_WITH_A_FILE = """
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from assignments.models import Assignment, Indicator
from workflows import actions
clerk = get_user_model().objects.get(username="lishi_clerk")
a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
a = actions.start(a, by=clerk, version=a.version)
actions.attach(a, by=clerk, upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.7\\n%%EOF backup test"))
values = {str(pk): "60" for pk in Indicator.objects.filter(item=a.item).values_list("pk", flat=True)}
actions.submit(a, by=clerk, version=a.version, narrative="已完成", indicators=values)
"""


class Site:
    """One Duban installation for the test: its own database and media folder, driven through manage.py."""

    def __init__(self, root, name):
        self.media = root / f"{name}-media"
        self.database = f"duban_ops_{secrets.token_hex(4)}_{name}"
        if POSTGRES:
            self.url = _server_url(self.database)
            with _admin() as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
        else:
            self.path = root / f"{self.database}.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def manage(self, *args, check=True):
        environment = {**os.environ, "DEBUG": "true", "HISTORY_KEY": HISTORY_KEY}
        environment.update(DATABASE_URL=self.url, MEDIA_ROOT=str(self.media), LOG_LEVEL="WARNING")
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check:
            assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        return done

    def count(self, sql):
        """One number read straight from the site's database (no Django in between)."""
        if POSTGRES:
            with _admin(self.database) as reader:
                return reader.execute(sql).fetchone()[0]
        with contextlib.closing(sqlite3.connect(self.path)) as reader:
            return reader.execute(sql).fetchone()[0]

    def drop(self):
        if POSTGRES:
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def _server_url(name):
    base = os.environ["DATABASE_URL"]
    return base.rsplit("/", 1)[0] + "/" + name


def _admin(name="postgres"):
    database = settings.DATABASES["default"]
    return psycopg.connect(
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=name,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    made = []

    def make(name):
        site = Site(tmp_path_factory.mktemp("ops"), name)
        made.append(site)
        return site

    yield make
    for site in made:
        site.drop()


@pytest.fixture(scope="module")
def source(sites):
    """A site with the plan, the demo accounts, the 2024 round and one submitted report with a file."""
    site = sites("source")
    site.manage("migrate", "--no-input", "-v0")
    site.manage("load_plan")
    site.manage("load_demo")
    site.manage("open_round", "2024")
    site.manage("shell", "-c", SUBMIT_WITH_A_FILE)
    return site


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory):
    done = source.manage("backup", "-o", str(tmp_path_factory.mktemp("backups")))
    return Path(done.stdout.split()[-1])


def manifest_of(path):
    with tarfile.open(path) as archive:
        return json.load(archive.extractfile("manifest.json"))


def test_backup_prints_the_archive_path_last_and_its_manifest_counts_the_snapshot(archive, source):
    manifest = manifest_of(archive)
    assert archive.is_file() and oct(archive.stat().st_mode)[-3:] == "600"
    assert manifest["database"]["vendor"] == ("postgresql" if POSTGRES else "sqlite")
    assert manifest["counts"] == {
        "events": source.count("SELECT COUNT(*) FROM workflows_event"),
        "assignments": source.count("SELECT COUNT(*) FROM assignments_assignment"),
        "attachments": 1,
        "files": 1,
    }
    ((name, sha),) = manifest["files"].items()
    assert name == f"attachments/{sha[:2]}/{sha}" and manifest["missing"] == []
    assert "0001_initial" in manifest["migrations"]["workflows"][0]


def test_a_restore_into_an_empty_site_passes_all_three_checks_and_the_history_verifies_against_the_archive(
    archive, source, sites, tmp_path
):
    target = sites("target")
    done = target.manage("restore", str(archive))
    assert "核对全部通过" in done.stdout
    assert "历史记录完整" in done.stdout and "每个附件文件的 SHA-256 都与其文件名一致" in done.stdout
    with tarfile.open(archive) as opened:
        opened.extract("checkpoint.txt", tmp_path, filter="data")
    verified = target.manage("verify_history", "--checkpoint", str(tmp_path / "checkpoint.txt"))
    assert "每条历史都延续" in verified.stdout
    manifest = manifest_of(archive)
    assert target.count("SELECT COUNT(*) FROM workflows_event") == manifest["counts"]["events"]
    ((name, sha),) = manifest["files"].items()
    assert (target.media / name).read_bytes() == (source.media / name).read_bytes()
    # The history's guards came back with the data: an event cannot be changed in the restored database.
    refused = target.manage("shell", "-c", "from workflows.models import Event\nEvent.objects.update(comment='x')",
                            check=False)  # fmt: skip
    assert refused.returncode != 0 and "append-only" in refused.stderr
    # The restored site works on: the report is reviewed there.
    target.manage("shell", "-c", REVIEW)
    assert target.count("SELECT COUNT(*) FROM workflows_event") == manifest["counts"]["events"] + 1


REVIEW = """
from django.contrib.auth import get_user_model
from assignments.models import Assignment
from workflows import actions
chief = get_user_model().objects.get(username="jizheng_chief")
a = Assignment.objects.get(round__year=2024, item__code="7a", unit__name="离石区")
actions.begin_review(a, by=chief, version=a.version)
"""


def test_a_restore_into_a_database_that_is_not_empty_is_refused_in_chinese_and_changes_nothing(
    archive, source, tmp_path
):
    events = source.count("SELECT COUNT(*) FROM workflows_event")
    busy = copy.copy(source)
    busy.media = tmp_path / "empty-media"  # only the database is in the way
    refused = busy.manage("restore", str(archive), check=False)
    assert refused.returncode != 0 and "目标数据库不是空的" in refused.stderr
    assert source.count("SELECT COUNT(*) FROM workflows_event") == events
    assert not busy.media.exists()


def test_a_restore_into_a_media_folder_that_is_not_empty_is_refused_and_leaves_the_database_empty(archive, sites):
    target = sites("busy-media")
    (target.media / "attachments").mkdir(parents=True)
    (target.media / "attachments" / "other.pdf").write_bytes(b"%PDF-1.4 someone else's")
    refused = target.manage("restore", str(archive), check=False)
    assert refused.returncode != 0 and "目标附件存储不是空的" in refused.stderr
    assert target.count("SELECT COUNT(*) FROM sqlite_master" if not POSTGRES else TABLES) == 0
    assert [path.name for path in target.media.rglob("*") if path.is_file()] == ["other.pdf"]


TABLES = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"


def test_an_archive_whose_file_bytes_were_changed_is_refused_before_anything_is_written(archive, sites, tmp_path):
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as original, tarfile.open(tampered, "w:gz") as rewritten:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data.replace(b"backup test", b"forged test")
            member.size = len(data)
            rewritten.addfile(member, io.BytesIO(data))
    target = sites("tampered")
    refused = target.manage("restore", str(tampered), check=False)
    assert refused.returncode != 0 and "SHA-256 与清单不符" in refused.stderr
    assert target.count("SELECT COUNT(*) FROM sqlite_master" if not POSTGRES else TABLES) == 0
    assert not target.media.exists()
