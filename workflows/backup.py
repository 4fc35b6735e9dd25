"""Backup and restore: one archive holding the database, the attachment files and the history checkpoints.

The archive (a gzipped tar) holds:

- `manifest.json`: when, which database, the counts (events, assignments, attachments, files), every
  member's SHA-256 and the migrations applied;
- `database.dump` (PostgreSQL, `pg_dump` custom format) or `database.sqlite3` (SQLite's online backup);
- `media/attachments/…`: the stored files, named by their SHA-256;
- `checkpoint.txt`: a checkpoint taken just before the snapshot, so the restored history can be proved
  to extend it (`verify_history --checkpoint`); `checkpoints.txt`: every checkpoint recorded until then.

Consistency: the checkpoint is taken first, then the database is snapshotted (`pg_dump` inside the same
repeatable-read snapshot the counts are read from; SQLite's backup API), then the files are copied.
Stored files are content-addressed and never rewritten, so every file the snapshot refers to is still
there to copy (files stored later come along too and are harmless: `sweep_media` removes the unreferenced).

A restore goes into an empty database and an empty media store only; it checks the whole archive before
it writes anything, and afterwards proves the history against the archive's checkpoint, the counts
against the manifest and every file's bytes against its name.
"""

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from assignments.models import Assignment, Attachment

from . import history
from .files import STORE
from .models import Checkpoint, Event

FORMAT = 1
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.txt"
CHECKPOINTS = "checkpoints.txt"
DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
MEDIA = "media/"
FILES_DIR = STORE  # the stored attachment files, by SHA-256, in the media storage
DUBAN_APPS = ("assignments", "permissions", "workflows")
SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why, in words an administrator can act on."""


# ---------------------------------------------------------------------------------------------
# Backup


def backup(directory):
    """Write an archive into `directory`; return its path and its manifest."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor not in DUMP:
        raise BackupError(f"不支持备份 {vendor} 数据库")
    try:
        checkpoint = history.take_checkpoint()
    except history.BrokenHistory as error:
        raise BackupError(f"历史记录不完整,不备份:{error}") from None
    created = timezone.now().astimezone(datetime.UTC)
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="duban-backup-", dir=directory) as work:
        dump = Path(work) / DUMP[vendor]
        census = _snapshot_postgresql(dump) if vendor == "postgresql" else _snapshot_sqlite(dump)
        target = directory / f"duban-{stamp}.tar.gz"
        draft = Path(work) / target.name
        members, missing = {}, []
        with tarfile.open(draft, "w:gz") as archive:
            members[DUMP[vendor]] = _add_file(archive, DUMP[vendor], dump)
            members[CHECKPOINT] = _add_bytes(archive, CHECKPOINT, (checkpoint.line + "\n").encode())
            members[CHECKPOINTS] = _add_bytes(archive, CHECKPOINTS, census.pop("checkpoint_lines").encode())
            files = {}
            for name in _stored_files():
                with default_storage.open(name, "rb") as handle:
                    files[name] = _add_stream(archive, MEDIA + name, handle, default_storage.size(name))
            missing = sorted(census.pop("referenced") - {Path(name).name for name in files})
            manifest = {
                "format": FORMAT,
                "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "database": {"vendor": vendor, "file": DUMP[vendor]},
                "counts": {**census.pop("counts"), "files": len(files)},
                "migrations": census.pop("migrations"),
                "checkpoint": {"at": checkpoint.at.isoformat(), "digest": checkpoint.digest},
                "members": members,
                "files": files,
                "missing": missing,
            }
            _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        os.chmod(draft, 0o600)  # the archive holds every account's password hash
        os.replace(draft, target)
    return target, manifest


def _snapshot_postgresql(dump):
    """`pg_dump` of the database inside a repeatable-read snapshot, whose counts are read in the same snapshot."""
    _check_client("pg_dump")
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        census = _census(cursor)
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
        _run([*command, f"--file={dump}"], "pg_dump")
    return census


def _snapshot_sqlite(dump):
    """SQLite's online backup of the database, then the counts read from that copy."""
    connection.ensure_connection()
    target = sqlite3.connect(dump)
    try:
        connection.connection.backup(target)
        return _census(target.cursor())
    finally:
        target.close()


def _census(cursor):
    """What the manifest counts, read with a plain DB-API cursor from the snapshot."""

    def scalar(sql):
        cursor.execute(sql)
        return cursor.fetchone()[0]

    def column(sql):
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]

    migrations = {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    for app, name in cursor.fetchall():
        if app in DUBAN_APPS:
            migrations.setdefault(app, []).append(name)
    return {
        "counts": {
            "events": scalar(f"SELECT COUNT(*) FROM {Event._meta.db_table}"),
            "assignments": scalar(f"SELECT COUNT(*) FROM {Assignment._meta.db_table}"),
            "attachments": scalar(f"SELECT COUNT(*) FROM {Attachment._meta.db_table}"),
        },
        "referenced": set(column(f"SELECT DISTINCT sha256 FROM {Attachment._meta.db_table}")),
        "migrations": migrations,
        "checkpoint_lines": "".join(
            line + "\n" for line in column(f"SELECT line FROM {Checkpoint._meta.db_table} ORDER BY at, id")
        ),
    }


def _stored_files():
    """The names of every stored attachment file, through the storage API."""
    names = []

    def walk(folder):
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return
        names.extend(f"{folder}/{name}" for name in files)
        for name in folders:
            walk(f"{folder}/{name}")

    walk(FILES_DIR)
    return sorted(names)


def _add_bytes(archive, name, data):
    return _add_stream(archive, name, io.BytesIO(data), len(data))


def _add_file(archive, name, path):
    with open(path, "rb") as handle:
        return _add_stream(archive, name, handle, path.stat().st_size)


def _add_stream(archive, name, handle, size):
    """Add `handle` as member `name`; return its SHA-256, computed over the very bytes written."""
    digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = handle.read(len(buffer))
            digest.update(chunk)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(timezone.now().timestamp())
    archive.addfile(info, io.BufferedReader(Hashing()))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Restore


@dataclass
class Report:
    manifest: dict
    checkpoint_line: str
    lines: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def restore(archive_path):
    """Restore the archive into this empty database and media store; return a `Report` of the checks
    made afterwards (`problems` empty when all hold). Raises BackupError, changing nothing, when the
    archive does not hold together or the database or the media store is not empty."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"找不到备份文件 {archive_path}")
    with tempfile.TemporaryDirectory(prefix="duban-restore-") as work:
        work = Path(work)
        manifest = _unpack(archive_path, work)
        vendor = manifest["database"]["vendor"]
        if vendor != connection.vendor:
            raise BackupError(f"备份来自 {vendor} 数据库,当前配置的是 {connection.vendor},不能恢复到这里")
        _check_migrations(manifest)
        _check_empty_database()
        _check_empty_media()
        dump = work / manifest["database"]["file"]
        if vendor == "postgresql":
            _restore_postgresql(dump)
        else:
            _restore_sqlite(dump)
        for name in manifest["files"]:
            with open(work / (MEDIA + name), "rb") as handle:
                saved = default_storage.save(name, File(handle))
            if saved != name:
                raise BackupError(f"附件文件 {name} 被存储改名为 {saved},恢复中止")
        checkpoint_line = (work / CHECKPOINT).read_text(encoding="utf-8")
    return _check_restored(manifest, checkpoint_line)


def _unpack(archive_path, work):
    """Extract the archive and check every member against the manifest before anything is written."""
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            archive.extractall(work, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"备份文件 {archive_path.name} 无法读取:{error}") from None
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError("备份文件缺少可读的清单 manifest.json,不是督办的备份") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持")
    expected = {**manifest["members"], **{MEDIA + name: sha for name, sha in manifest["files"].items()}}
    for name, sha in expected.items():
        path = work / name
        if not path.is_file():
            raise BackupError(f"备份文件不完整:缺少 {name},未作任何改动")
        if _sha256(path) != sha:
            raise BackupError(f"备份文件已损坏或被改动:{name} 的 SHA-256 与清单不符,未作任何改动")
    for name in manifest["files"]:
        if Path(name).name != manifest["files"][name] or not SHA256.fullmatch(Path(name).name):
            raise BackupError(f"备份文件已被改动:附件 {name} 的内容与其文件名(SHA-256)不符,未作任何改动")
    return manifest


def _check_migrations(manifest):
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [
        f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names if (app, name) not in known
    ]
    if unknown:
        raise BackupError(f"备份来自较新版本的督办(有本版本没有的迁移 {'、'.join(unknown)}),请先升级程序再恢复")


def _check_empty_database():
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"目标数据库不是空的(已有 {len(tables)} 张表),恢复只写入空数据库;请新建一个空数据库并让 DATABASE_URL 指向它"
        )


def _check_empty_media():
    def has_files(folder):
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return False
        return bool(files) or any(has_files(f"{folder}/{name}" if folder else name) for name in folders)

    if has_files(""):
        raise BackupError("目标附件存储不是空的,恢复只写入空的附件目录;请换一个空目录(MEDIA_ROOT)")


def _restore_postgresql(dump):
    _check_client("pg_restore")
    connection.close()
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([*command, f"--dbname={settings.DATABASES['default']['NAME']}", str(dump)], "pg_restore")


def _restore_sqlite(dump):
    connection.close()
    path = Path(settings.DATABASES["default"]["NAME"])
    source, target = sqlite3.connect(dump), sqlite3.connect(path)
    try:
        if target.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            raise BackupError(f"目标数据库 {path} 不是空的,恢复只写入空数据库")
        source.backup(target)
    finally:
        source.close()
        target.close()


def _check_restored(manifest, checkpoint_line):
    """The three proofs of a restore: history against the checkpoint, counts against the manifest, files."""
    report = Report(manifest=manifest, checkpoint_line=checkpoint_line)
    try:
        pinned = history.read_checkpoint(checkpoint_line)
    except history.BadCheckpoint as error:
        report.problems.append(f"备份中的检查点不可用:{error}")
        pinned = None
    if pinned is not None:
        verdict = history.verify(checkpoint=pinned)
        if verdict.intact:
            report.lines.append(f"历史记录完整:{verdict.events} 条,延续备份时的检查点({pinned['chains']} 个督办事项)。")
        else:
            report.problems.append(f"历史记录不完整:{verdict.problem}")
    counts = manifest["counts"]
    found = {
        "events": Event.objects.count(),
        "assignments": Assignment.objects.count(),
        "attachments": Attachment.objects.count(),
        "files": len(_stored_files()),
    }
    labels = {"events": "历史记录", "assignments": "督办事项", "attachments": "附件记录", "files": "附件文件"}
    units = {"events": "条", "assignments": "个", "attachments": "条", "files": "个"}
    for name, label in labels.items():
        if found[name] == counts[name]:
            report.lines.append(f"{label} {found[name]} {units[name]},与备份清单一致。")
        else:
            report.problems.append(f"{label}数为 {found[name]},备份清单记为 {counts[name]}。")
    bad = [name for name in _stored_files() if _storage_sha256(name) != Path(name).name]
    if bad:
        report.problems.append(f"{len(bad)} 个附件文件的内容与其 SHA-256 文件名不符:{'、'.join(bad[:5])}")
    else:
        report.lines.append("每个附件文件的 SHA-256 都与其文件名一致。")
    return report


# ---------------------------------------------------------------------------------------------
# Shared steps


def _sha256(path):
    with open(path, "rb") as handle:
        return _hash_stream(handle)


def _storage_sha256(name):
    with default_storage.open(name, "rb") as handle:
        return _hash_stream(handle)


def _hash_stream(handle):
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _pg_environment():
    """libpq's variables for the configured database, so the password never shows in a process list."""
    database = settings.DATABASES["default"]
    values = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
        "PGSSLMODE": database.get("OPTIONS", {}).get("sslmode"),
    }
    return {**os.environ, **{name: str(value) for name, value in values.items() if value}}


def _check_client(program):
    """The PostgreSQL client program, at least the server's major version (an older one cannot read it)."""
    if shutil.which(program) is None:
        raise BackupError(f"找不到 {program}:请安装 PostgreSQL 客户端(Debian:apt-get install postgresql-client)")
    output = subprocess.run([program, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    client = int(found.group(1)) if found else 0
    connection.ensure_connection()
    server = connection.pg_version // 10000
    if client < server:
        raise BackupError(f"{program} 的版本({client})低于数据库服务器({server}),请安装 {server} 或更新版本的客户端")


def _run(command, name):
    result = subprocess.run(command, env=_pg_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{name} 失败:{result.stderr.strip()[-800:]}")
