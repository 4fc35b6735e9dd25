"""Attachments: real files, checked by content and size, stored once by SHA-256, served only to those
who may see their assignment."""

import hashlib
import io
import os
import struct
import threading
import time
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from assignments.models import Assignment, Attachment, Measure
from workflows import actions, files, rounds

from .conftest import fresh, snapshot

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def xlsx():
    book = Workbook()
    book.active["A1"] = "未保站覆盖率"
    book.active["B1"] = 45
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(name, content):
    return SimpleUploadedFile(name, content)


@pytest.fixture
def working(assignment, walk, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return walk.start(assignment)


def stored_files(root):
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("报告.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF", "application/pdf"),
        ("现场.PNG", png(), "image/png"),
        ("照片.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "image/jpeg"),
        ("统计.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("总结.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("旧表.xls", OLE, "application/vnd.ms-excel"),
        ("旧文.doc", OLE, "application/msword"),
    ],
)
def test_allowed_files_are_stored_under_their_sha256(working, county_clerk, tmp_path, name, content, content_type):
    attachment = actions.attach(working, by=county_clerk, upload=upload(name, content))
    digest = hashlib.sha256(content).hexdigest()
    assert (attachment.sha256, attachment.size, attachment.content_type) == (digest, len(content), content_type)
    assert (tmp_path / "attachments" / digest[:2] / digest).read_bytes() == content
    assert stored_files(tmp_path) == [tmp_path / "attachments" / digest[:2] / digest]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("病毒.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("无扩展名", b"%PDF-1.4", "不支持的文件类型"),
        ("伪装.pdf", b"MZ\x90\x00\x03", "文件内容与扩展名"),
        ("伪装.png", b"%PDF-1.4 not a png", "文件内容与扩展名"),
        ("压缩包.xlsx", zipfile.ZipFile.__name__.encode(), "文件内容与扩展名"),
        ("文档.xlsx", docx(), "文件内容与扩展名"),  # a Word file named as Excel
        ("空.pdf", b"", "文件是空的"),
    ],
)
def test_wrong_type_files_are_refused_and_leave_nothing(working, county_clerk, tmp_path, name, content, message):
    before = snapshot(working)
    with pytest.raises(actions.Invalid, match=message):
        actions.attach(working, by=county_clerk, upload=upload(name, content))
    assert snapshot(working) == before
    assert stored_files(tmp_path) == []


def test_an_oversized_file_is_refused_and_leaves_nothing(working, county_clerk, tmp_path, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    before = snapshot(working)
    with pytest.raises(actions.Invalid, match="文件过大"):
        actions.attach(working, by=county_clerk, upload=upload("大.pdf", b"%PDF-" + b"0" * 2000))
    assert snapshot(working) == before
    assert stored_files(tmp_path) == []


def test_an_upload_larger_than_it_claims_is_cut_off_while_streaming(working, county_clerk, tmp_path, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    liar = upload("大.pdf", b"%PDF-" + b"0" * 5000)
    liar.size = 10  # a client may send a false size; the stream is counted anyway
    with pytest.raises(actions.Invalid, match="文件过大"):
        actions.attach(working, by=county_clerk, upload=liar)
    assert stored_files(tmp_path) == []


def test_the_same_content_is_stored_once(working, county_clerk, tmp_path):
    content = png()
    first = actions.attach(working, by=county_clerk, upload=upload("a.png", content))
    second = actions.attach(working, by=county_clerk, upload=upload("b.png", content))
    assert first.sha256 == second.sha256 and first.pk != second.pk
    assert len(stored_files(tmp_path)) == 1


def test_file_names_are_cleaned(working, county_clerk):
    attachment = actions.attach(working, by=county_clerk, upload=upload("../../etc/报\x00告.pdf", b"%PDF-1.4"))
    assert attachment.name == "报告.pdf"


def test_attaching_needs_the_county_and_a_working_state(
    assignment, walk, county_clerk, other_county_clerk, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(actions.Conflict, match="不能上传附件"):
        actions.attach(assignment, by=county_clerk, upload=upload("a.pdf", b"%PDF-1.4"))
    a = walk.start(assignment)
    with pytest.raises(actions.NotAllowed):
        actions.attach(a, by=other_county_clerk, upload=upload("a.pdf", b"%PDF-1.4"))
    assert stored_files(tmp_path) == []


def test_attachments_carry_over_to_a_resubmission(working, walk, county_clerk):
    first = actions.attach(working, by=county_clerk, upload=upload("一.pdf", b"%PDF-1.4 one"))
    a = walk.submit(fresh(working))
    a = walk.begin_review(a)
    a = walk.return_(a)
    second = actions.attach(a, by=county_clerk, upload=upload("二.pdf", b"%PDF-1.4 two"))
    a = walk.submit(fresh(a))
    events = a.events.filter(action="submit").order_by("sequence")
    assert [event.attachments for event in events] == [[first.sha256], [first.sha256, second.sha256]]


def test_a_pending_file_can_be_removed_but_a_submitted_one_cannot(working, walk, county_clerk, tmp_path):
    wrong = actions.attach(working, by=county_clerk, upload=upload("错.pdf", b"%PDF-1.4 wrong"))
    actions.detach(working, by=county_clerk, attachment_id=wrong.pk)
    assert not Attachment.objects.filter(pk=wrong.pk).exists()
    assert sweep(tmp_path) == "已删除 1 个无人引用的文件。\n"  # the file goes with the next sweep
    assert stored_files(tmp_path) == []
    kept = actions.attach(working, by=county_clerk, upload=upload("对.pdf", b"%PDF-1.4 right"))
    walk.submit(fresh(working))
    with pytest.raises(actions.Conflict, match="不能删除"):
        actions.detach(working, by=county_clerk, attachment_id=kept.pk)
    assert sweep(tmp_path) == "已删除 0 个无人引用的文件。\n"
    assert stored_files(tmp_path) == [tmp_path / files.name_of(kept.sha256)]


def age(root, seconds=2 * 3600):
    """Make every file under `root` look `seconds` old, as the sweep's grace period measures it."""
    then = time.time() - seconds
    for path in stored_files(root):
        os.utime(path, (then, then))


def sweep(root, *args):
    """Age every stored file past the grace period and run `sweep_media`; its output."""
    age(root)
    out = io.StringIO()
    call_command("sweep_media", *args, stdout=out)
    return out.getvalue()


def test_a_rolled_back_uploads_files_are_swept_once_old(working, county_clerk, tmp_path):
    content = b"%PDF-1.4 rolled back"
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.attach(working, by=county_clerk, upload=upload("回滚.pdf", content))
        raise RuntimeError("the request failed after the upload")
    assert len(stored_files(tmp_path)) == 1  # an unfinished upload is a local temporary file, never in the store
    out = io.StringIO()
    call_command("sweep_media", stdout=out)  # younger than the grace period: an upload may still be running
    assert out.getvalue() == "已删除 0 个无人引用的文件。\n" and len(stored_files(tmp_path)) == 1
    assert sweep(tmp_path) == "已删除 1 个无人引用的文件。\n"
    assert stored_files(tmp_path) == []


def test_a_referenced_file_is_never_swept(working, county_clerk, tmp_path):
    attachment = actions.attach(working, by=county_clerk, upload=upload("报告.pdf", b"%PDF-1.4 kept"))
    assert sweep(tmp_path, "--grace-minutes", "0") == "已删除 0 个无人引用的文件。\n"
    assert stored_files(tmp_path) == [tmp_path / files.name_of(attachment.sha256)]


def test_a_detached_file_whose_bytes_another_county_uploaded_stays(
    working, other_county_assignment, county_clerk, other_county_clerk, tmp_path
):
    content = b"%PDF-1.4 the same notice"
    mine = actions.attach(working, by=county_clerk, upload=upload("通知.pdf", content))
    other = actions.start(other_county_assignment, by=other_county_clerk, version=other_county_assignment.version)
    theirs = actions.attach(other, by=other_county_clerk, upload=upload("通知.pdf", content))
    actions.detach(working, by=county_clerk, attachment_id=mine.pk)
    assert sweep(tmp_path) == "已删除 0 个无人引用的文件。\n"
    assert (tmp_path / files.name_of(theirs.sha256)).read_bytes() == content


def test_an_upload_of_bytes_stored_long_ago_makes_them_recent_for_the_sweep(working, county_clerk, tmp_path):
    content = b"%PDF-1.4 stored long ago"
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.attach(working, by=county_clerk, upload=upload("旧.pdf", content))
        raise RuntimeError("rolled back: the file is left with no row")
    age(tmp_path)
    with pytest.raises(RuntimeError), transaction.atomic():  # another upload of the bytes, still running
        again = actions.attach(working, by=county_clerk, upload=upload("旧.pdf", content))
        raise RuntimeError("its row is not visible to the sweep, as if not committed yet")
    out = io.StringIO()
    call_command("sweep_media", stdout=out)
    assert out.getvalue() == "已删除 0 个无人引用的文件。\n"
    assert (tmp_path / files.name_of(again.sha256)).read_bytes() == content


def test_a_removal_racing_an_upload_of_the_same_bytes_to_another_county_keeps_the_file(
    committed, plan, county_clerk, other_county_clerk, tmp_path, settings
):
    """The removal commits while the other county's upload of the same bytes has not committed yet."""
    settings.MEDIA_ROOT = tmp_path
    rounds.open_round(2024, measures=[Measure.objects.get(number=7)])
    mine, theirs = (
        Assignment.objects.get(round__year=2024, item__code="7a", unit__name=name) for name in ("离石区", "兴县")
    )
    actions.start(mine, by=county_clerk, version=mine.version)
    actions.start(theirs, by=other_county_clerk, version=theirs.version)
    content = b"%PDF-1.4 the city's notice, forwarded to every county"
    wrong = actions.attach(mine.pk, by=county_clerk, upload=upload("通知.pdf", content))
    uploaded, removed, failures = threading.Event(), threading.Event(), []

    def upload_elsewhere():
        try:
            with transaction.atomic():
                actions.attach(theirs.pk, by=other_county_clerk, upload=upload("通知.pdf", content))
                uploaded.set()
                # SQLite admits one writer at a time: there the upload commits before the removal begins.
                if connection.vendor != "sqlite":
                    removed.wait(timeout=60)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
            uploaded.set()
        finally:
            connections.close_all()

    def remove_mine():
        try:
            uploaded.wait(timeout=60)
            actions.detach(mine.pk, by=county_clerk, attachment_id=wrong.pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            removed.set()
            connections.close_all()

    threads = [threading.Thread(target=upload_elsewhere), threading.Thread(target=remove_mine)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    survivor = Attachment.objects.get()
    assert survivor.assignment_id == theirs.pk
    assert (tmp_path / files.name_of(survivor.sha256)).read_bytes() == content


def test_a_submitted_file_is_served_only_to_those_who_may_see_its_assignment(
    client, working, walk, county_clerk, other_county_clerk, section_chief, auditor
):
    attachment = actions.attach(working, by=county_clerk, upload=upload("报告.pdf", b"%PDF-1.4 secret"))
    walk.submit(fresh(working))
    url = reverse("assignments:download", args=[attachment.pk])
    for user, status in [(county_clerk, 200), (section_chief, 200), (auditor, 200), (other_county_clerk, 404)]:
        client.force_login(user)
        assert client.get(url).status_code == status
    client.logout()
    assert client.get(url).status_code == 302


def seen(user, assignment, attachment):
    """Whether `user` can download `attachment` and finds it listed, on the pages and in the API alike."""
    page, api = Client(), APIClient()
    page.force_login(user)
    api.force_authenticate(user)
    downloads = [
        page.get(reverse("assignments:download", args=[attachment.pk])).status_code,
        api.get(f"/api/v1/attachments/{attachment.pk}/").status_code,
    ]
    listed = [
        attachment.name in page.get(reverse("assignments:detail", args=[assignment.pk])).content.decode(),
        attachment.pk in [row["id"] for row in api.get(f"/api/v1/assignments/{assignment.pk}/").json()["attachments"]],
    ]
    return downloads, listed


def test_a_countys_files_not_yet_submitted_are_seen_by_that_county_only(
    working, walk, county_clerk, county_head, section_chief, co_section_staff, leader, auditor
):
    attachment = actions.attach(working, by=county_clerk, upload=upload("草稿.pdf", b"%PDF-1.4 draft"))
    for user in (county_clerk, county_head):
        assert seen(user, working, attachment) == ([200, 200], [True, True]), user.username
    for user in (section_chief, co_section_staff, leader, auditor):
        assert seen(user, working, attachment) == ([404, 404], [False, False]), user.username
    walk.submit(fresh(working))
    for user in (county_clerk, section_chief, co_section_staff, leader, auditor):
        assert seen(user, working, attachment) == ([200, 200], [True, True]), user.username
