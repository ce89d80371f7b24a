"""Resumable uploads (tus 1.0.0: core, creation, termination), kept on disk so they outlive a restart.

An upload lives in ``uploads/<id>/``: ``info.json`` (owner, name, length, the job's form fields) and
``data`` (the bytes so far: its size *is* the offset, so nothing else must be kept in step). When the last
byte arrives the data moves into a new job's folder and is checked like a multipart upload
(``queueing.queue_stored``). Abandoned uploads go through the janitor's ``resumable`` sweep.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import time
from collections.abc import AsyncIterator
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


def create(root: Path, owner: str, length: int, metadata: dict[str, str], max_bytes: int) -> Partial:
    """Start an upload: name, size and options are judged now, before any byte is sent."""
    if length > max_bytes:
        raise UploadTooLarge(reason("http.too_large", limit_bytes=max_bytes))
    filename = display_name(metadata.get("filename", ""))
    suffix = safe_suffix(filename)
    fields = {key: metadata[key] for key in OPTION_FIELDS if key in metadata}
    parse_options(fields)  # bad options are refused before the bytes, not after
    asked = metadata.get(EXCERPT_FIELD)
    if asked is not None:
        quick.parse_start(asked)
    partial = Partial(uuid4().hex, owner, filename, suffix, length, fields, time.time(), asked)
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
    """Move a complete upload into a new job's folder: the same place a multipart upload is written to."""
    job_id = uuid4().hex
    key = storage.input_key(job_id, partial.suffix)
    target = storage.resolve(root, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial.data(root), target)
    remove(root, partial)
    return Upload(job_id, partial.filename, key, target, target.stat().st_size, dict(partial.fields))


def discard_job(root: Path, job_id: str) -> None:
    """A finished upload refused before its job was made: the job folder it moved into goes."""
    shutil.rmtree(storage.resolve(root, storage.job_dir(job_id)), ignore_errors=True)


def remove(root: Path, partial: Partial) -> None:
    """Termination, or the end of a finished upload: its folder goes."""
    shutil.rmtree(partial.folder(root), ignore_errors=True)


def expired(root: Path, max_age_s: float, now: float | None = None) -> Reclaimed:
    """The janitor's sweep: uploads nobody added a byte to for ``max_age_s`` are removed."""
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
    return total
