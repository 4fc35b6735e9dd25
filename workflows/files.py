"""Attachments: checked by size, name and content, kept in the media storage under their SHA-256.

Django does not limit an upload's size or type; these checks are ours. A refused file leaves nothing
behind: the upload is streamed to a local temporary file, checked, and only then saved into the media
storage under its hash. Every access to stored files goes through Django's storage API
(`default_storage`: the file system under MEDIA_ROOT by default, or any store `MEDIA_STORAGE` names), so
several application servers can share one store.

One stored file may serve several attachment rows (the same bytes uploaded twice, by two counties,
say), and a row becomes visible to others only when its transaction commits. So no action deletes a
file: removing a row leaves its file, and `sweep` (the `sweep_media` command) deletes the files no
row refers to once they are older than a grace period. Storing bytes that are stored already saves
them again, which makes them recent; and an upload holds a lock on its hash until its transaction
ends, which the sweep takes before it deletes, so a file an upload still in progress refers to is
never deleted under it.
"""

import hashlib
import os
import time
import unicodedata
import zipfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import connection, transaction

from assignments.models import Attachment
from assignments.selectors import attachments_for
from permissions.checks import visible_to

STORE = "attachments"

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# extension → (content type, how the content must begin or what it must hold)
TYPES = {
    ".pdf": ("application/pdf", "pdf"),
    ".jpg": ("image/jpeg", "jpeg"),
    ".jpeg": ("image/jpeg", "jpeg"),
    ".png": ("image/png", "png"),
    ".doc": ("application/msword", "ole"),
    ".xls": ("application/vnd.ms-excel", "ole"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
ALLOWED_LABEL = "PDF、Word(.doc/.docx)、Excel(.xls/.xlsx)、JPEG、PNG"


class FileRefused(ValueError):
    """The upload is not accepted; the message is safe to show."""


def max_bytes():
    return settings.ATTACHMENT_MAX_BYTES


def clean_name(name):
    name = unicodedata.normalize("NFC", os.path.basename(str(name or "").replace("\\", "/")))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        raise FileRefused("文件名无效")
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name


def content_kind(path):
    """What the file's content is, read from its first bytes (and, for Office files, its parts)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(OLE):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def store(assignment, upload, *, by):
    """Check `upload` and keep it as a pending attachment of `assignment`; raise FileRefused.

    Call it inside the transaction that creates the row: the lock on the file's hash lasts until it ends.
    """
    name = clean_name(getattr(upload, "name", ""))
    extension = os.path.splitext(name)[1].lower()
    if extension not in TYPES:
        raise FileRefused(f"不支持的文件类型“{extension or name}”;只接受 {ALLOWED_LABEL}")
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise FileRefused(f"文件过大({_size(upload.size)}),单个附件不能超过 {_size(limit)}")
    content_type, expected = TYPES[extension]
    digest = hashlib.sha256()
    size = 0
    # A local file in FILE_UPLOAD_TEMP_DIR (the system's by default), removed when closed; a file system
    # store moves it into place whole, so a reader never sees half a file.
    with TemporaryUploadedFile(name, content_type, None, None) as temporary:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                raise FileRefused(f"文件过大,单个附件不能超过 {_size(limit)}")
            digest.update(chunk)
            temporary.write(chunk)
        temporary.flush()
        if size == 0:
            raise FileRefused("文件是空的")
        if content_kind(temporary.temporary_file_path()) != expected:
            raise FileRefused(f"文件内容与扩展名“{extension}”不符;只接受真实的 {ALLOWED_LABEL} 文件")
        temporary.seek(0)
        temporary.size = size
        sha256 = digest.hexdigest()
        _lock_bytes(sha256)
        stored = name_of(sha256)
        saved = default_storage.save(stored, temporary)
        if saved != stored:  # a store that keeps the first copy of a name: that copy holds these very bytes
            default_storage.delete(saved)
    return Attachment.objects.create(
        assignment=assignment, name=name, content_type=content_type, size=size, sha256=sha256, uploaded_by=by
    )


def downloadable(user, attachments=None):
    """The attachments `user` may download: those of assignments they see, except another county's
    files not submitted yet (`assignments.selectors.attachments_for`)."""
    attachments = Attachment.objects.all() if attachments is None else attachments
    return attachments_for(user, attachments.filter(assignment__in=visible_to(user)))


def name_of(sha256):
    """The stored file's name in the media storage."""
    return f"{STORE}/{sha256[:2]}/{sha256}"


def _lock_bytes(sha256):
    """Until the current transaction ends, no sweep deletes the file of `sha256` (nor does this wait for one).

    On PostgreSQL an advisory lock keyed by the hash; SQLite admits one writing transaction at a time
    (IMMEDIATE), which is lock enough.
    """
    if connection.vendor == "postgresql":
        key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def response(attachment):
    """The stored file as a download under its own name and type (never rendered by the browser)."""
    from django.http import FileResponse, Http404

    stored = name_of(attachment.sha256)
    if not default_storage.exists(stored):
        raise Http404("附件文件缺失")
    download = FileResponse(default_storage.open(stored, "rb"), as_attachment=True, filename=attachment.name)
    download["Content-Type"] = attachment.content_type
    download["X-Content-Type-Options"] = "nosniff"
    return download


def sweep(*, grace_seconds):
    """Delete the stored files that no attachment row refers to, when older than `grace_seconds`; return
    how many were deleted.

    Each file is looked at again under the lock on its hash, in a transaction of its own: an upload of
    the same bytes that is still in progress holds that lock, and one that committed meanwhile refers to it.
    """
    cutoff = time.time() - grace_seconds
    referenced = set(Attachment.objects.values_list("sha256", flat=True).distinct())
    removed = 0
    for stored in _stored_names():
        sha256 = stored.rsplit("/", 1)[-1]
        if sha256 in referenced or _modified(stored) >= cutoff:
            continue
        with transaction.atomic():
            _lock_bytes(sha256)
            if Attachment.objects.filter(sha256=sha256).exists() or _modified(stored) >= cutoff:
                continue
            default_storage.delete(stored)
        removed += 1
    return removed


def _stored_names():
    try:
        folders, _ = default_storage.listdir(STORE)
    except FileNotFoundError:  # nothing stored yet
        return []
    names = []
    for folder in sorted(folders):
        _, stored = default_storage.listdir(f"{STORE}/{folder}")
        names += [f"{STORE}/{folder}/{name}" for name in sorted(stored)]
    return names


def _modified(stored):
    """When `stored` was last saved, in seconds since the epoch; a file gone meanwhile counts as recent."""
    try:
        return default_storage.get_modified_time(stored).timestamp()
    except FileNotFoundError:
        return float("inf")


def _size(count):
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MiB".replace(".0 ", " ")
    return f"{count / 1024:.0f} KiB"
