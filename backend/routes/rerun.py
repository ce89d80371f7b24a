"""POST /api/jobs/{id}/rerun: the same original again with other options, without a second upload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from .. import quotas, rerun
from ..deps import JobDep, OwnerDep, ServicesDep, ViewerDep
from ..problems import problem
from ..schemas import JobOut, Problem

router = APIRouter(tags=["jobs"])


class RerunIn(BaseModel):
    """The options of the new run, as the upload's form fields (every one optional, same defaults)."""

    model: str | None = None
    scale: int | None = None
    height: int | None = None
    upscale: bool = True
    describe: str | None = None
    density: str | None = None
    deinterlace: str | None = None
    container: str | None = None
    regions: str | None = None
    strength: str | None = None
    denoise: int | None = None
    background: str | None = None
    hdr: str | None = None
    #: From a quick test run: the whole original («Обработать всё»), even while the test still runs.
    whole: bool = False


#: The upload form's option fields a re-run may change (the rest keep their defaults).
OPTION_FIELDS = (
    "model", "scale", "height", "describe", "density",
    "deinterlace", "container", "regions", "strength", "denoise", "background", "hdr",
)  # fmt: skip


def as_fields(body: RerunIn) -> dict[str, str]:
    """The body as the upload's form fields, so one parser (``options.parse_options``) judges both."""
    fields = {"upscale": "true" if body.upscale else "false"}
    for name in OPTION_FIELDS:
        value = getattr(body, name)
        if value is not None:
            fields[name] = str(value)
    return fields


@router.post(
    "/jobs/{job_id}/rerun",
    status_code=201,
    response_model=JobOut,
    responses={code: {"model": Problem} for code in (404, 409, 415, 422, 429, 507)},
)
async def rerun_job(
    job: JobDep, body: RerunIn, request: Request, services: ServicesDep, caller: OwnerDep, view: ViewerDep
) -> Any:
    """Queue a finished, failed or cancelled job's kept original again with other options (a new job)."""
    source = rerun.source_of(services, job, whole=body.whole)
    try:
        admission = await quotas.admit(request, services, caller, source.stat().st_size)
        fields, owner = as_fields(body), caller.owner
        made = await rerun.rerun(services, job, fields, owner=owner, quota=admission, whole=body.whole)
    except quotas.QuotaExceeded as exc:
        return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s)})
    return view(made)
