"""Routes of the jobs themselves: upload, list, read, cancel/delete (docs/api.md)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from contract.catalogue import reason
from contract.messages import DESCRIBE_LANGUAGES
from contract.models import DEFAULT_MODEL, MODELS
from contract.sizing import SCALES

from .. import creation, jobs
from ..deps import JobDep, ServicesDep, SettingsDep, StoreDep
from ..errors import JobNotFound
from ..schemas import JobOut, Problem
from .views import NOT_FOUND, view

log = logging.getLogger(__name__)
router = APIRouter(tags=["jobs"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "model": {"type": "string", "enum": list(MODELS), "default": DEFAULT_MODEL},
                        "scale": {"type": "integer", "enum": list(SCALES)},
                        "height": {"type": "integer", "example": 1080},
                        "upscale": {"type": "boolean", "default": True},
                        "describe": {
                            "type": "string",
                            "enum": [*DESCRIBE_LANGUAGES, ""],
                            "default": "",
                            "description": "add an audio description in this language",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/jobs",
    status_code=201,
    response_model=JobOut,
    openapi_extra=UPLOAD_BODY,
    responses={code: {"model": Problem} for code in (413, 415, 422, 507)},
)
async def create_job(request: Request, services: ServicesDep) -> JobOut:
    """Upload a video (multipart: file, model, scale or height, upscale, describe) and queue it."""
    length = request.headers.get("content-length")
    job = await creation.create_job(
        services,
        request.stream(),
        request.headers.get("content-type"),
        int(length) if length and length.isdigit() else None,
    )
    return view(services.settings.STORAGE_ROOT, job)


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(store: StoreDep, settings: SettingsDep) -> list[JobOut]:
    """All jobs, newest first."""
    return [view(settings.STORAGE_ROOT, job) for job in store.newest()]


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def get_job(job: JobDep, settings: SettingsDep) -> JobOut:
    """One job."""
    return view(settings.STORAGE_ROOT, job)


@router.delete(
    "/jobs/{job_id}", response_model=JobOut, responses={**NOT_FOUND, 204: {"description": "Deleted"}}
)
def delete_job(job: JobDep, services: ServicesDep) -> Any:
    """Cancel a queued/running job (200), or delete a finished one with its files (204)."""
    root = services.settings.STORAGE_ROOT
    if job.status in jobs.ACTIVE:
        job_now, cancelled = services.store.update(
            job.id, lambda locked: creation.cancel_with_marker(root, locked)
        )
        if job_now is None:
            raise JobNotFound(reason("http.job_not_found"))
        if cancelled:
            log.info("job cancelled", extra={"job_id": job.id, "status": jobs.CANCELLED})
        # Lost a race with a finishing job: show it as it is now; a second DELETE removes it.
        return view(root, job_now)
    if not creation.delete_job(services, job.id):
        raise JobNotFound(reason("http.job_not_found"))
    return Response(status_code=204)
