"""Resumable uploads (tus 1.0.0: core, creation, termination), kept on disk so they outlive a restart.

An upload lives in ``uploads/<id>/``: ``info.json`` (owner, name, length, the job's form fields) and
``data`` (the bytes so far: its size *is* the offset, so nothing else must be kept in step). When the last
byte arrives the data moves into a new job's folder and is checked like a multipart upload
(``creation.queue_job``); the upload's folder goes once the job row is committed. Abandoned uploads go
through the janitor's ``resumable`` sweep, which also releases their quota reservation (``rid``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import uuid4

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from backend.errors import ApiError, InvalidRequest, JobNotFound, StorageFull, UploadTooLarge, is_disk_full
from backend.intake import quick
from backend.intake.options import parse_options
from backend.intake.upload import Upload, display_name, safe_suffix
from backend.janitor.sweeps import Reclaimed
from contract import storage
from contract.catalogue import reason
from contract.options import EXCERPT_FIELD, OPTION_FIELDS

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"
FOLDER = "uploads"


class OffsetMismatch(ApiError):
    """A PATCH that does not start where the stored bytes end (tus: 409)."""

    status_code = 409


@dataclass
class Partial:
    """One resumable upload as stored."""

    id: str
    owner: str
    filename: str
    suffix: str
    length: int
    fields: dict[str, str] = field(default_factory=dict)
    created: float = 0.0
    #: A quick test run: ``auto`` or the start second of its excerpt (None: the whole video).
    excerpt: str | None = None

    def folder(self, root: Path) -> Path:
        return storage.resolve(root, f"{FOLDER}/{self.id}")

    def data(self, root: Path) -> Path:
        return self.folder(root) / "data"

    def offset(self, root: Path) -> int:
        """Bytes received so far (the data file's size)."""
        try:
            return self.data(root).stat().st_size
        except FileNotFoundError:
            return 0


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs, decoded as UTF-8."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidRequest(reason("http.invalid_request", fields="Upload-Metadata")) from exc
    return found


def new_id() -> str:
    """A fresh upload id (the quota reservation is made under it before the folder exists)."""
    return uuid4().hex


def rid(upload_id: str) -> str:
    """The upload's reservation in the quota ledger (backend.intake.ledger)."""
    return f"tus:{upload_id}"


def judge(length: int, metadata: dict[str, str], max_bytes: int) -> None:
    """Size, name and options are judged before anything is reserved or stored; the ApiError if refused."""
    if length > max_bytes:
        raise UploadTooLarge(reason("http.too_large", limit_bytes=max_bytes))
    safe_suffix(display_name(metadata.get("filename", "")))
    parse_options({key: metadata[key] for key in OPTION_FIELDS if key in metadata})
    asked = metadata.get(EXCERPT_FIELD)
    if asked is not None:
        quick.parse_start(asked)


def create(
    root: Path, owner: str, length: int, metadata: dict[str, str], max_bytes: int, upload_id: str = ""
) -> Partial:
    """Start an upload: name, size and options are judged now, before any byte is sent."""
    judge(length, metadata, max_bytes)
    filename = display_name(metadata.get("filename", ""))
    suffix = safe_suffix(filename)
    fields = {key: metadata[key] for key in OPTION_FIELDS if key in metadata}
    asked = metadata.get("excerpt")
    partial = Partial(upload_id or new_id(), owner, filename, suffix, length, fields, time.time(), asked)
    folder = partial.folder(root)
    try:
        folder.mkdir(parents=True)
        partial.data(root).touch()
        (folder / "info.json").write_text(json.dumps(asdict(partial)))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if is_disk_full(exc):
            raise StorageFull(reason("http.storage_full")) from exc
        raise
    return partial


def load(root: Path, upload_id: str, owner: str | None) -> Partial:
    """The caller's upload (``owner`` None: an operator's view of any), else 404."""
    try:
        folder = storage.resolve(root, f"{FOLDER}/{upload_id}")
        partial = Partial(**json.loads((folder / "info.json").read_text()))
    except (storage.UnsafeKeyError, OSError, ValueError, TypeError) as exc:
        raise JobNotFound(reason("http.not_found")) from exc
    if owner is not None and partial.owner != owner:
        raise JobNotFound(reason("http.not_found"))
    return partial


async def append(root: Path, partial: Partial, offset: int, body: AsyncIterator[bytes]) -> int:
    """Write a PATCH body at ``offset``; what arrived before a dropped connection is kept. The new offset."""
    have = partial.offset(root)
    if offset != have:
        raise OffsetMismatch(reason("http.upload_offset", offset=have, sent=offset))
    handle = await run_in_threadpool(partial.data(root).open, "ab")
    try:
        async for chunk in body:
            if have + len(chunk) > partial.length:
                raise UploadTooLarge(reason("http.too_large", limit_bytes=partial.length))
            await run_in_threadpool(handle.write, chunk)
            have += len(chunk)
    except ClientDisconnect:
        pass  # the bytes written so far stay; the client resumes from them
    except OSError as exc:
        if is_disk_full(exc):
            raise StorageFull(reason("http.storage_full")) from exc
        raise
    finally:
        await run_in_threadpool(handle.close)
    return have


def finish(root: Path, partial: Partial) -> Upload:
    """Move a complete upload into a new job's folder: the same place a multipart upload is written to.

    Only the writer (``backend.intake.locks``) calls this, once every byte is in; the upload's folder stays
    until
    its job is committed (``remove``), so a crash in between leaves a record of what the job folder is.
    """
    data = partial.data(root)
    if data.stat().st_size != partial.length:
        raise OffsetMismatch(reason("http.upload_offset", offset=data.stat().st_size, sent=partial.length))
    job_id = uuid4().hex
    key = storage.input_key(job_id, partial.suffix)
    target = storage.resolve(root, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(data, target)
    return Upload(job_id, partial.filename, key, target, target.stat().st_size, dict(partial.fields))


def discard_job(root: Path, job_id: str) -> None:
    """A finished upload refused before its job was made: the job folder it moved into goes."""
    shutil.rmtree(storage.resolve(root, storage.job_dir(job_id)), ignore_errors=True)


def remove(root: Path, partial: Partial) -> None:
    """Termination, or the end of a finished upload: its folder goes."""
    shutil.rmtree(partial.folder(root), ignore_errors=True)


def expired(
    root: Path, max_age_s: float, now: float | None = None, on_removed: Callable[[str], None] | None = None
) -> Reclaimed:
    """The janitor's sweep: uploads nobody added a byte to for ``max_age_s`` are removed (``on_removed``)."""
    now = time.time() if now is None else now
    total = Reclaimed()
    base = root / FOLDER
    if not base.is_dir():
        return total
    for entry in os.scandir(base):
        folder = Path(entry.path)
        files = [path for path in folder.iterdir() if path.is_file()] if folder.is_dir() else []
        last = max((path.stat().st_mtime for path in files), default=entry.stat().st_mtime)
        if now - last < max_age_s:
            continue
        total.add(Reclaimed(len(files), sum(path.stat().st_size for path in files)))
        shutil.rmtree(folder, ignore_errors=True)
        if on_removed is not None:
            on_removed(entry.name)
    return total
