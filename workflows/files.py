"""Attachments: checked by size, name and content, stored under MEDIA_ROOT by their SHA-256.

Django does not limit an upload's size or type; these checks are ours. A refused file leaves nothing
behind: the upload is streamed to a temporary file beside the store, checked, and only then moved
into place under its hash (a file already stored under that hash is kept once).

One stored file may serve several attachment rows (the same bytes uploaded twice, by two counties,
say), and a row becomes visible to others only when its transaction commits. So no action deletes a
file: removing a row leaves its file, and `sweep` (the `sweep_media` command) deletes the files no
row refers to once they are older than a grace period. Storing a file that exists refreshes its
time, so a file in use by an upload still in progress is never old enough to be swept.
"""

import hashlib
import os
import tempfile
import time
import unicodedata
import uuid
import zipfile
from pathlib import Path

from django.conf import settings

from assignments.models import Attachment
from assignments.selectors import attachments_for
from permissions.checks import visible_to

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
    """Check `upload` and keep it as a pending attachment of `assignment`; raise FileRefused."""
    name = clean_name(getattr(upload, "name", ""))
    extension = os.path.splitext(name)[1].lower()
    if extension not in TYPES:
        raise FileRefused(f"不支持的文件类型“{extension or name}”;只接受 {ALLOWED_LABEL}")
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise FileRefused(f"文件过大({_size(upload.size)}),单个附件不能超过 {_size(limit)}")
    incoming = _incoming()
    incoming.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=incoming, delete=False)  # noqa: SIM115 - kept past `with`
    temporary = Path(handle.name)
    try:
        with handle:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > limit:
                    raise FileRefused(f"文件过大,单个附件不能超过 {_size(limit)}")
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise FileRefused("文件是空的")
        content_type, expected = TYPES[extension]
        kind = content_kind(temporary)
        if kind != expected:
            raise FileRefused(f"文件内容与扩展名“{extension}”不符;只接受真实的 {ALLOWED_LABEL} 文件")
        sha256 = digest.hexdigest()
        final = path_of(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.utime(final)  # stored already: keep that copy, now too recent for a sweep
            temporary.unlink()
        except FileNotFoundError:
            os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Attachment.objects.create(
        assignment=assignment, name=name, content_type=content_type, size=size, sha256=sha256, uploaded_by=by
    )


def downloadable(user, attachments=None):
    """The attachments `user` may download: those of assignments they see, except another county's
    files not submitted yet (`assignments.selectors.attachments_for`)."""
    attachments = Attachment.objects.all() if attachments is None else attachments
    return attachments_for(user, attachments.filter(assignment__in=visible_to(user)))


def path_of(sha256):
    return Path(settings.MEDIA_ROOT) / "attachments" / sha256[:2] / sha256


def _incoming():
    return Path(settings.MEDIA_ROOT) / "incoming"


def response(attachment):
    """The stored file as a download under its own name and type (never rendered by the browser)."""
    from django.http import FileResponse, Http404

    stored = path_of(attachment.sha256)
    if not stored.exists():
        raise Http404("附件文件缺失")
    download = FileResponse(stored.open("rb"), as_attachment=True, filename=attachment.name)
    download["Content-Type"] = attachment.content_type
    download["X-Content-Type-Options"] = "nosniff"
    return download


def sweep(*, grace_seconds):
    """Delete the stored files that no attachment row refers to and the temporary files of uploads that
    never finished, when older than `grace_seconds`; return how many were deleted.

    A file is first moved aside, then looked at again: an upload of the same bytes that refreshed it in
    the meantime gets it back (an upload that came after the move stores its own copy).
    """
    cutoff = time.time() - grace_seconds
    referenced = set(Attachment.objects.values_list("sha256", flat=True).distinct())
    removed = 0
    incoming = _incoming()
    for path in sorted(incoming.glob("*")) if incoming.is_dir() else []:
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    store_root = Path(settings.MEDIA_ROOT) / "attachments"
    for path in sorted(store_root.glob("*/*")) if store_root.is_dir() else []:
        if path.name in referenced or not path.is_file() or path.stat().st_mtime >= cutoff:
            continue
        incoming.mkdir(parents=True, exist_ok=True)
        aside = incoming / f"swept-{uuid.uuid4().hex}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue
        if aside.stat().st_mtime >= cutoff:
            os.rename(aside, path)  # refreshed by an upload just before the move: same bytes, keep it
            continue
        aside.unlink()
        removed += 1
    return removed


def _size(count):
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MiB".replace(".0 ", " ")
    return f"{count / 1024:.0f} KiB"
