"""Resumable uploads over tus 1.0.0 at /api/uploads (core, creation, termination; docs/api.md).

The same caps, checks and storage rules as ``POST /api/jobs``: size and name refused at creation, quotas
before any byte, the probe and options when the last byte arrives, and then the job is queued. The reply
to that last PATCH names the job in ``Upload-Job``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import OwnerDep, ServicesDep
from backend.api.problems import problem
from backend.errors import InvalidRequest, UnsupportedMedia
from backend.intake import queueing, quick, quotas, resumable
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


@router.post(BASE, status_code=201)
async def create(request: Request, services: ServicesDep, caller: OwnerDep) -> Response:
    """Creation: ``Upload-Length`` and ``Upload-Metadata`` (filename + the job's options) → ``Location``."""
    length = _number(request, "Upload-Length")
    try:
        admission = await quotas.admit(request, services, caller, length)
    except quotas.QuotaExceeded as exc:
        return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s), **TUS})
    metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata"))
    limit = admission.max_bytes(services.settings.MAX_UPLOAD_BYTES)
    root = services.settings.STORAGE_ROOT
    partial = await run_in_threadpool(resumable.create, root, caller.owner, length, metadata, limit)
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
    """Add bytes at ``Upload-Offset``; the last one checks the video and queues its job (``Upload-Job``)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/offset+octet-stream":
        raise UnsupportedMedia(reason("http.invalid_request", fields="Content-Type"))
    root = services.settings.STORAGE_ROOT
    partial = resumable.load(root, upload_id, _owner(caller))
    at = _number(request, "Upload-Offset")
    now = await resumable.append(root, partial, at, request.stream())
    headers = {**TUS, "Upload-Offset": str(now)}
    if now < partial.length:
        return Response(status_code=204, headers=headers)
    upload = await run_in_threadpool(resumable.finish, root, partial)
    start = None
    try:
        admission = await quotas.admit(request, services, caller, upload.size)
        if partial.excerpt is not None:
            upload, start = await run_in_threadpool(quick.make, root, upload, partial.excerpt)
    except quotas.QuotaExceeded as exc:
        await run_in_threadpool(resumable.discard_job, root, upload.job_id)
        return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s), **TUS})
    except BaseException:
        await run_in_threadpool(resumable.discard_job, root, upload.job_id)
        raise
    owner, how = partial.owner, "quick test" if start is not None else "tus upload"
    job = await queueing.queue_stored(
        services, upload, owner=owner, quota=admission, how=how, excerpt_start=start
    )
    return Response(status_code=204, headers={**headers, "Upload-Job": job.id})


@router.delete(PATH, status_code=204)
def terminate(upload_id: str, services: ServicesDep, caller: OwnerDep) -> Response:
    """Termination: the upload and its bytes go."""
    root = services.settings.STORAGE_ROOT
    resumable.remove(root, resumable.load(root, upload_id, _owner(caller)))
    return Response(status_code=204, headers=TUS)
