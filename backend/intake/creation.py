"""A job's life on the backend's side: upload → validate → job row → outbox, and its removal.

Every way a job's files go away (a refused or failed upload, deleting a finished job) runs through
``discard``, so nothing is left behind on any path.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

from starlette.concurrency import run_in_threadpool

from backend.api.services import Services
from backend.errors import ApiError, InvalidRequest, UnsupportedMedia
from backend.intake import quotas, segments
from backend.intake.options import output_size, parse_options
from backend.intake.strength import strength_text
from backend.intake.upload import Upload, receive
from backend.jobs import cancels
from backend.jobs import rules as jobs
from backend.jobs.db import Job, Task, utcnow
from contract import storage
from contract.container import container_for
from contract.estimate import job_estimate_s
from contract.interlace import decide_mode, pictures_per_frame
from contract.limits import PROBE_TIMEOUT_S
from contract.mediainfo import MediaInfo, ProbeError
from contract.messages import JobOptions
from contract.precision import host_precision
from contract.probe import is_animation
from contract.sizing import display_size

log = logging.getLogger(__name__)

#: Probe refusals that mean "not something we take" (415); the rest are an unreadable or too big video (422).
REFUSED_KINDS = frozenset({"not_video", "unsupported"})


def discard(root: Path, job_id: str) -> None:
    """Remove everything stored for a job (ignores a folder that does not exist)."""
    shutil.rmtree(storage.resolve(root, storage.job_dir(job_id)), ignore_errors=True)


def probe_refusal(exc: ProbeError) -> ApiError:
    """The HTTP error for a video ffprobe refused, with the probe's own reason."""
    cls = UnsupportedMedia if exc.kind in REFUSED_KINDS else InvalidRequest
    return cls(exc.reason)


async def create_job(
    svc: Services,
    body: AsyncIterator[bytes],
    content_type: str | None,
    content_length: int | None,
    *,
    owner: str,
    quota: quotas.Admission | None = None,
) -> Job:
    """Store a multipart upload in a new job's folder, then queue it; on any error nothing is left."""
    job_id = uuid4().hex
    quota = quota or quotas.Admission()
    try:
        upload = await receive(
            body, content_type, content_length,
            root=svc.settings.STORAGE_ROOT, job_id=job_id,
            max_bytes=quota.max_bytes(svc.settings.MAX_UPLOAD_BYTES), reserve=quota.grow,
        )  # fmt: skip
    except BaseException as exc:
        await _refused(svc, job_id, quota, exc, "upload")
        raise
    return await queue_job(svc, upload, owner=owner, quota=quota, how="upload")


async def queue_job(
    svc: Services,
    upload: Upload,
    *,
    owner: str,
    quota: quotas.Admission,
    how: str,
    excerpt_start: float | None = None,
) -> Job:
    """Every door's one tail: check ``upload`` (in its job's folder), commit its job, or leave nothing."""
    try:
        job = await _checked_job(svc, upload)
        job.owner, job.excerpt_start = owner, excerpt_start
        await run_in_threadpool(svc.store.add, job)
        await run_in_threadpool(quota.accepted)
    except BaseException as exc:
        await _refused(svc, upload.job_id, quota, exc, how)
        raise
    svc.metrics.uploads.labels("accepted").inc()
    svc.metrics.upload_bytes.inc(upload.size)
    facts = {"bytes": upload.size, "segments": len(job.tasks), "via": how}
    log.info("job queued", extra={"job_id": job.id, "owner": owner, "status": jobs.QUEUED, **facts})
    if svc.outbox is not None:
        svc.outbox.wake()
    return job


async def _refused(svc: Services, job_id: str, quota: quotas.Admission, exc: BaseException, how: str) -> None:
    """Nothing left of a refused upload (its folder, its reservation); an ApiError is counted and logged."""
    discard(svc.settings.STORAGE_ROOT, job_id)
    await run_in_threadpool(quota.refused)
    if isinstance(exc, ApiError):
        svc.metrics.uploads.labels(str(exc.status_code)).inc()
        log.info("%s refused: %s", how, exc.detail, extra={"job_id": job_id, "status": exc.status_code})


async def _checked_job(svc: Services, upload: Upload) -> Job:
    """Options, probe, output size and segment plan of an upload: its job row, or the ApiError."""
    options = parse_options(upload.fields)
    try:
        info = await run_in_threadpool(
            svc.probe,
            upload.path,
            max_width=svc.settings.MAX_WIDTH,
            max_height=svc.settings.MAX_HEIGHT,
            max_duration_s=svc.settings.MAX_DURATION_S,
            timeout_s=PROBE_TIMEOUT_S,
        )
        # What the stream really holds, not what its header claims: limit and segment plan use it.
        info = await run_in_threadpool(
            segments.counted, upload.path, info, max_duration_s=svc.settings.MAX_DURATION_S
        )
    except ProbeError as exc:
        raise probe_refusal(exc) from exc
    if options.upscale:
        output_size(options, info.frame_width, info.frame_height, sar=info.sar, rotation=info.rotation)
        options = await run_in_threadpool(_decided, upload.path, info, options)
    tasks = await run_in_threadpool(
        segments.for_upload, upload.path, info, options,
        seconds=svc.settings.SEGMENT_SECONDS, read_keyframes=svc.keyframes,
    )
    return new_job(upload, options, info, tasks)


def _decided(path: Path, info: MediaInfo, options: JobOptions) -> JobOptions:
    """The options with interlacing decided once for the whole job (idet here, not in every segment task)."""
    if is_animation(info):  # pictures, not fields
        return options.model_copy(update={"deinterlace": "off", "field_parity": None})
    mode, parity = decide_mode(
        path,
        duration_s=info.duration_s,
        fps=float(info.fps),
        field_order=info.field_order,
        option=options.deinterlace,
        timeout_s=PROBE_TIMEOUT_S,
    )
    return options.model_copy(update={"deinterlace": mode, "field_parity": parity})


def new_job(upload: Upload, options: JobOptions, info: MediaInfo, tasks: list[Task]) -> Job:
    """The queued, unpublished job row of a checked upload."""
    now = utcnow()
    # The display size (square pixels, upright): what the page predicts the output from.
    width, height = display_size(info.frame_width, info.frame_height, sar=info.sar, rotation=info.rotation)
    return Job(
        id=upload.job_id,
        filename=upload.filename,
        status=jobs.QUEUED,
        published=False,
        model=options.model,
        scale=options.scale,
        height=options.height,
        upscale=options.upscale,
        describe=options.describe,
        description_density=options.density,
        deinterlace=options.deinterlace,
        regions=options.regions,
        background=options.background,
        hdr=options.hdr,
        field_parity=options.field_parity,
        container=container_for(options.container, info.subtitle_codecs, info.attachments),
        strength=strength_text(options.strength),
        denoise=options.denoise,
        input_key=upload.key,
        size_bytes=upload.size,
        input_width=width,
        input_height=height,
        input_duration_s=info.duration_s,
        input_fps=float(info.fps),
        input_frames=info.frames,
        frames_total=info.frames * (pictures_per_frame(options.deinterlace) if options.upscale else 1),
        # The adapters' host is taken to be like this one, running the default precision (auto).
        estimate_s=job_estimate_s(
            info, options, info.frames * pictures_per_frame(options.deinterlace), host_precision()
        ),
        progress=0.0,
        frames_done=0,
        created_at=now,
        updated_at=now,
        tasks=tasks,
    )


def cancel(svc: Services, job_id: str) -> tuple[Job | None, bool]:
    """Cancel an active job: commit it, then write the adapters' marker (best effort, after the commit).

    The database is the truth: a marker the storage refuses (a full disk) is logged and written again by
    the janitor (``cancels.sync_markers``); the cancel itself stands. Returns the job and whether it changed.
    """
    job, cancelled = svc.store.update(job_id, jobs.cancel)
    if cancelled:
        cancels.write_marker(svc.settings.STORAGE_ROOT, job_id)
        log.info("job cancelled", extra={"job_id": job_id, "status": jobs.CANCELLED})
    return job, cancelled


def delete_job(svc: Services, job_id: str) -> bool:
    """Remove a job: its row (leaving a tombstone, which cancels it if active), marker, then files.

    False when it is gone already. The marker goes before the files so a running task stops on it, not
    on a failure; files a full disk keeps nobody from removing.
    """
    if not svc.store.delete(job_id):
        return False
    root = svc.settings.STORAGE_ROOT
    cancels.write_marker(root, job_id)
    discard(root, job_id)
    log.info("job deleted", extra={"job_id": job_id})
    return True
