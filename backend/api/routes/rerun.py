"""POST /api/jobs/{id}/rerun: the same original again with other options, without a second upload."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request

from backend.api.deps import JobDep, OwnerDep, ServicesDep, ViewerDep
from backend.api.problems import problem
from backend.api.schemas import JobOut, Problem
from backend.intake import quotas, rerun
from contract.options import OPTION_FIELDS, ClientOptions

router = APIRouter(tags=["jobs"])


class RerunIn(ClientOptions):
    """The options of the new run: the upload's option fields (``contract.options``), the same defaults."""

    upscale: bool = True
    #: From a quick test run: the whole original («Обработать всё»), even while the test still runs.
    whole: bool = False


def as_fields(body: RerunIn) -> dict[str, str]:
    """The body as the upload's form fields, so one parser (``options.parse_options``) judges both."""
    fields = {"upscale": "true" if body.upscale else "false"}
    for name in OPTION_FIELDS:
        value = getattr(body, name)
        if value is not None and name != "upscale":  # upscale: above, a JSON boolean in a re-run's body
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
        admission = await quotas.admit(
            request, services, caller, source.stat().st_size,
            rid=f"rerun:{uuid4().hex}", ttl_s=services.settings.UPLOAD_GRACE_S,
        )
        fields, owner = as_fields(body), caller.owner
        made = await rerun.rerun(services, job, fields, owner=owner, quota=admission, whole=body.whole)
    except quotas.QuotaExceeded as exc:
        return problem(exc.reason, exc.status_code, {"Retry-After": str(exc.retry_after_s)})
    return view(made)
