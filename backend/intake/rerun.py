"""Run a finished, failed or cancelled job again with other options, from its kept original (no upload).

The original is linked (a hard link, else a copy) into the new job's folder, so each job owns its files and
deleting either one never takes the other's input. Checks, caps and storage rules are the upload's own:
the same probe, options, output size and segment plan (``creation.queue_job``), the same quotas.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from uuid import uuid4

from starlette.concurrency import run_in_threadpool

from backend.api.services import Services
from backend.api.views import stored
from backend.errors import ApiError, InvalidRequest, JobNotFound, StorageFull, is_disk_full
from backend.intake import creation, quick, quotas
from backend.intake.upload import Upload
from backend.jobs import rules as jobs
from backend.jobs.db import Job
from contract import storage
from contract.catalogue import reason


class StillActive(ApiError):
    """A queued or running job cannot be run again until it ends (or is stopped)."""

    status_code = 409


def source_of(svc: Services, job: Job, *, whole: bool = False) -> Path:
    """The kept original of a job that may run again, or the ApiError that says why not.

    ``whole``: a quick test run's whole original («Обработать всё»), allowed while the test still runs.
    """
    if whole:
        if job.excerpt_start is None:
            raise InvalidRequest(reason("http.invalid_request", fields="whole"))
        path = stored(svc.settings.STORAGE_ROOT, quick.original_key(job.id, job.input_key))
        if path is None:
            raise JobNotFound(reason("http.source_gone"))
        return path
    if job.status in jobs.ACTIVE:
        raise StillActive(reason("http.rerun_active"))
    path = stored(svc.settings.STORAGE_ROOT, job.input_key)
    if path is None:
        raise JobNotFound(reason("http.source_gone"))
    return path


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError as exc:
        if is_disk_full(exc):
            raise StorageFull(reason("http.storage_full")) from exc
        # Another file system, or links not allowed: a copy costs space but keeps the rule.
        try:
            shutil.copyfile(source, target)
        except OSError as copy_exc:
            if is_disk_full(copy_exc):
                raise StorageFull(reason("http.storage_full")) from copy_exc
            raise


async def rerun(
    svc: Services,
    job: Job,
    fields: dict[str, str],
    *,
    owner: str,
    quota: quotas.Admission,
    whole: bool = False,
) -> Job:
    """Queue a new job on ``job``'s original with ``fields`` (form fields); on error nothing is left."""
    source = source_of(svc, job, whole=whole)
    new_id = uuid4().hex
    root = svc.settings.STORAGE_ROOT
    suffix = PurePosixPath(job.input_key).suffix
    key = storage.input_key(new_id, suffix)
    target = storage.resolve(root, key)
    try:
        await run_in_threadpool(_link, source, target)
    except BaseException:
        creation.discard(root, new_id)
        await run_in_threadpool(quota.refused)
        raise
    size = target.stat().st_size
    upload = Upload(job_id=new_id, filename=job.filename, key=key, path=target, size=size, fields=fields)
    return await creation.queue_job(svc, upload, owner=owner, quota=quota, how="re-run")
