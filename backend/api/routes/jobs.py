"""Routes of the jobs themselves: upload, list, read, cancel/delete (docs/api.md)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request, Response

from backend.api.deps import JobDep, OwnerDep, ServicesDep, SignerDep, StoreDep, ViewerDep
from backend.api.identity import born
from backend.api.problems import problem
from backend.api.routes import watch
from backend.api.schemas import JobOut, Problem, ShareOut
from backend.api.views import NOT_FOUND, preview_path
from backend.errors import JobNotFound
from backend.intake import creation, quotas
from backend.jobs import rules as jobs
from contract.catalogue import reason
from contract.options import form_schema

log = logging.getLogger(__name__)
router = APIRouter(tags=["jobs"])

UPLOAD_BODY = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form_schema()}}},
}


@router.post(
    "/jobs",
    status_code=201,
    response_model=JobOut,
    openapi_extra=UPLOAD_BODY,
    responses={code: {"model": Problem} for code in (413, 415, 422, 429, 507)},
)
async def create_job(request: Request, services: ServicesDep, caller: OwnerDep, view: ViewerDep) -> Any:
    """Upload a video (multipart: the file and the option fields of ``contract.options``) and queue it."""
    header = request.headers.get("content-length")
    length = int(header) if header and header.isdigit() else None
    try:
        # Quotas that need no body first: a refused upload is never read, let alone stored.
        try:
            admission = await quotas.admit(
                request, services, caller, quotas.form_hint(length),
                rid=f"form:{uuid4().hex}", ttl_s=services.settings.UPLOAD_GRACE_S,
            )
        except quotas.QuotaExceeded as exc:
            services.metrics.uploads.labels(str(exc.status_code)).inc()
            extra = {"owner": caller.owner, "status": exc.status_code}
            log.info("upload refused: %s", exc.detail, extra=extra)
            raise
        job = await creation.create_job(
            services, request.stream(), request.headers.get("content-type"), length,
            owner=caller.owner, quota=admission,
        )
    except quotas.QuotaExceeded as exc:
        return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s)})
    return view(job)


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(store: StoreDep, caller: OwnerDep, view: ViewerDep) -> list[JobOut]:
    """The caller's jobs (an operator's: everyone's), newest first."""
    return [view(job) for job in store.newest(owner=None if caller.operator else caller.owner)]


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def get_job(job: JobDep, view: ViewerDep) -> JobOut:
    """One job."""
    return view(job)


@router.post("/jobs/{job_id}/share", response_model=ShareOut, responses=NOT_FOUND)
def share_job(job: JobDep, services: ServicesDep, signer: SignerDep) -> ShareOut:
    """Links to a finished job's result, previews and cues that work without credentials until they expire."""
    root, ttl_s = services.settings.STORAGE_ROOT, services.settings.SHARE_TTL_S
    if job.status != jobs.DONE:
        raise JobNotFound(reason("http.result_not_ready"))
    base, expires = f"/api/jobs/{job.id}", signer.expiry(ttl_s)

    def link(path: str) -> str:
        return signer.sign(f"{base}/{path}", born(job), ttl_s, expires=expires)

    return ShareOut(
        result_url=link("result"),
        vtt_url=link("vtt") if job.vtt_key else None,
        preview_before_url=link("preview/before") if preview_path(root, job, "before") else None,
        preview_after_url=link("preview/after") if preview_path(root, job, "after") else None,
        expires_at=datetime.fromtimestamp(expires, UTC),
        watch_url=f"/w/{watch.token(signer, job, expires)}",
    )


@router.delete(
    "/jobs/{job_id}", response_model=JobOut, responses={**NOT_FOUND, 204: {"description": "Deleted"}}
)
def delete_job(job: JobDep, services: ServicesDep, view: ViewerDep) -> Any:
    """Cancel a queued/running job (200), or delete a finished one with its files (204)."""
    if not jobs.is_deletable(job):
        job_now, _cancelled = creation.cancel(services, job.id)
        if job_now is None:
            raise JobNotFound(reason("http.job_not_found"))
        # Lost a race with a finishing job: show it as it is now; a second DELETE removes it.
        return view(job_now)
    if not creation.delete_job(services, job.id):
        raise JobNotFound(reason("http.job_not_found"))
    return Response(status_code=204)
