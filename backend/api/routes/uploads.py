"""Resumable uploads over tus 1.0.0 at /api/uploads (core, creation, termination; docs/api.md).

The same caps, checks and storage rules as ``POST /api/jobs``: size and name refused at creation, quotas
(the hour, the whole declared length reserved) before any byte, the probe and options when the last byte
arrives, and then the job is queued. The reply to that last PATCH names the job in ``Upload-Job``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import OwnerDep, ServicesDep
from backend.api.problems import problem
from backend.api.services import Services
from backend.errors import InvalidRequest, StorageFull, UnsupportedMedia
from backend.intake import creation, locks, quick, quotas, resumable
from contract.catalogue import reason

router = APIRouter(tags=["uploads"])

BASE = "/uploads"
PATH = BASE + "/{upload_id}"
TUS = {"Tus-Resumable": resumable.VERSION}


def _number(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise InvalidRequest(reason("http.invalid_request", fields=name))
    return int(value)


def _owner(caller: Any) -> str | None:
    return None if caller.operator else caller.owner


@router.options(BASE, status_code=204)
def discover(services: ServicesDep) -> Response:
    """What this server speaks: the version, the extensions and the largest upload."""
    headers = {
        **TUS,
        "Tus-Version": resumable.VERSION,
        "Tus-Extension": resumable.EXTENSIONS,
        "Tus-Max-Size": str(services.settings.MAX_UPLOAD_BYTES),
    }
    return Response(status_code=204, headers=headers)


def _refusal(exc: quotas.QuotaExceeded, **headers: str) -> Response:
    return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s), **TUS, **headers})


def _room_on_disk(root: Path, length: int) -> None:
    """507 when the storage volume has less free space than the upload declares."""
    if shutil.disk_usage(root).free < length:
        raise StorageFull(reason("http.storage_full"))


@router.post(BASE, status_code=201)
async def create(request: Request, services: ServicesDep, caller: OwnerDep) -> Response:
    """Creation: ``Upload-Length`` and ``Upload-Metadata`` (filename + the job's options) → ``Location``.

    A creation counts as an upload of the hour and reserves its whole ``Upload-Length`` against the
    owner's storage quota until the upload ends, is refused or expires (docs/api.md "Quotas").
    """
    settings = services.settings
    length = _number(request, "Upload-Length")
    metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata"))
    limit, root = settings.MAX_UPLOAD_BYTES, settings.STORAGE_ROOT
    resumable.judge(length, metadata, limit)
    await run_in_threadpool(_room_on_disk, root, length)
    upload_id = resumable.new_id()
    try:
        admission = await quotas.admit(
            request, services, caller, length, rid=resumable.rid(upload_id), ttl_s=settings.RESUMABLE_EXPIRY_S
        )
    except quotas.QuotaExceeded as exc:
        return _refusal(exc)
    try:
        partial = await run_in_threadpool(
            resumable.create, root, caller.owner, length, metadata, limit, upload_id
        )
    except BaseException:
        await run_in_threadpool(admission.refused)
        raise
    location = f"/api{BASE}/{partial.id}"
    return Response(status_code=201, headers={**TUS, "Location": location, "Upload-Offset": "0"})


@router.head(PATH)
def offset(upload_id: str, services: ServicesDep, caller: OwnerDep) -> Response:
    """Where to resume: the bytes the server holds (``Upload-Offset``) of ``Upload-Length``."""
    root = services.settings.STORAGE_ROOT
    partial = resumable.load(root, upload_id, _owner(caller))
    headers = {
        **TUS,
        "Upload-Offset": str(partial.offset(root)),
        "Upload-Length": str(partial.length),
        "Cache-Control": "no-store",
    }
    return Response(status_code=200, headers=headers)


@router.patch(PATH, status_code=204)
async def append(upload_id: str, request: Request, services: ServicesDep, caller: OwnerDep) -> Response:
    """Add bytes at ``Upload-Offset``; the last one checks the video and queues its job (``Upload-Job``).

    One writer at a time (backend.intake.locks): a PATCH while another runs gets 423 at once. A complete
    upload
    refused by a quota stays until its expiry; an empty PATCH at its full length finishes it later.
    """
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/offset+octet-stream":
        raise UnsupportedMedia(reason("http.invalid_request", fields="Content-Type"))
    settings = services.settings
    root = settings.STORAGE_ROOT
    resumable.load(root, upload_id, _owner(caller))
    at = _number(request, "Upload-Offset")
    async with locks.writer(services.leases, upload_id):
        # Again under the lock: the writer before us may have finished (and removed) it.
        partial = await run_in_threadpool(resumable.load, root, upload_id, _owner(caller))
        await _renew(services, partial)
        now = await resumable.append(root, partial, at, request.stream())
        await _renew(services, partial)
        headers = {**TUS, "Upload-Offset": str(now)}
        if now < partial.length:
            return Response(status_code=204, headers=headers)
        return await _finish(request, services, caller, partial, headers)


async def _renew(services: Services, partial: resumable.Partial) -> None:
    """Keep the upload's reservation as long as its bytes (RESUMABLE_EXPIRY_S after the last one)."""
    if services.ledger is not None:
        ttl_s = max(quotas.MIN_TTL_S, services.settings.RESUMABLE_EXPIRY_S)
        await run_in_threadpool(services.ledger.renew, resumable.rid(partial.id), ttl_s)


async def _finish(
    request: Request, services: Services, caller: Any, partial: resumable.Partial, headers: dict[str, str]
) -> Response:
    """The last byte is in: queue the job, or keep the upload when a quota refuses it for now."""
    root = services.settings.STORAGE_ROOT
    try:
        await quotas.check_active(services, caller)
    except quotas.QuotaExceeded as exc:
        # The bytes stay until the upload expires; an empty PATCH at its full length finishes it later.
        kept = reason("quota.upload_kept", limit=services.settings.QUOTA_ACTIVE_JOBS)
        return _refusal(quotas.QuotaExceeded(kept, exc.status_code, exc.retry_after_s), **headers)
    ended = quotas.Admission(services.ledger, quotas.reservation(resumable.rid(partial.id)), keep_marks=True)
    upload = await run_in_threadpool(resumable.finish, root, partial)
    start = None
    try:
        if partial.excerpt is not None:
            upload, start = await run_in_threadpool(quick.make, root, upload, partial.excerpt)
        how = "quick test" if start is not None else "tus upload"
        job = await creation.queue_job(
            services, upload, owner=partial.owner, quota=ended, how=how, excerpt_start=start
        )
    except BaseException:
        await run_in_threadpool(resumable.discard_job, root, upload.job_id)
        await run_in_threadpool(resumable.remove, root, partial)
        await run_in_threadpool(ended.refused)
        raise
    await run_in_threadpool(resumable.remove, root, partial)
    return Response(status_code=204, headers={**headers, "Upload-Job": job.id})


@router.delete(PATH, status_code=204)
def terminate(upload_id: str, services: ServicesDep, caller: OwnerDep) -> Response:
    """Termination: the upload and its bytes go."""
    root = services.settings.STORAGE_ROOT
    resumable.remove(root, resumable.load(root, upload_id, _owner(caller)))
    if services.ledger is not None:  # its promise goes with it; its creation still counts in the hour
        services.ledger.release(resumable.rid(upload_id))
    return Response(status_code=204, headers=TUS)
