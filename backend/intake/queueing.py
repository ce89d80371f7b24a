"""Queue a stored original as a job: the upload's checks, then the job row; shared by re-runs and tus uploads.

``creation.create_job`` does the same for the multipart upload after receiving it; this is its tail for
originals that are already in the job's folder (linked from an earlier job, or moved from a tus upload).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from backend.api.services import Services
from backend.errors import ApiError
from backend.intake import creation, quotas
from backend.intake.upload import Upload
from backend.jobs import rules as jobs
from backend.jobs.db import Job

log = logging.getLogger(__name__)


async def queue_stored(
    svc: Services,
    upload: Upload,
    *,
    owner: str,
    quota: quotas.Admission,
    how: str,
    excerpt_start: float | None = None,
) -> Job:
    """Check ``upload`` (already in its job's folder) and commit its queued job; on error nothing is left."""
    try:
        made = await creation._checked_job(svc, upload)
        made.owner = owner
        made.excerpt_start = excerpt_start
        await run_in_threadpool(svc.store.add, made)
        await run_in_threadpool(quota.accepted)
    except BaseException as exc:
        creation.discard(svc.settings.STORAGE_ROOT, upload.job_id)
        await run_in_threadpool(quota.refused)
        if isinstance(exc, ApiError):
            svc.metrics.uploads.labels(str(exc.status_code)).inc()
            log.info(
                "%s refused: %s", how, exc.detail, extra={"job_id": upload.job_id, "status": exc.status_code}
            )
        raise
    svc.metrics.uploads.labels("accepted").inc()
    svc.metrics.upload_bytes.inc(upload.size)
    log.info("job queued", extra={"job_id": upload.job_id, "owner": owner, "status": jobs.QUEUED, "via": how})
    if svc.outbox is not None:
        svc.outbox.wake()
    return made
