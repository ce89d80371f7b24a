"""HTTP routes of /api (see docs/api.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from uuid import uuid4

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from contract import storage
from contract.messages import DESCRIBE_LANGUAGES, MODELS
from contract.probe import ACCEPTED_EXTENSIONS, MediaInfo, ProbeError
from contract.probe import keyframes as read_keyframes

from . import jobs, segments
from .db import Job, utcnow
from .errors import ApiError, InvalidRequest, JobNotFound, UnsupportedMedia
from .metrics import Metrics
from .options import output_size, parse_options
from .schemas import ConfigOut, JobOut, ModelOut, Problem, job_out
from .settings import Settings
from .store import JobStore
from .upload import discard, receive

log = logging.getLogger(__name__)

TITLES: dict[str, tuple[str, str]] = {
    "realesr-animevideov3-x4": ("Быстрая / анимация", "Fast / animation"),
    "realesr-animevideov3-x3": ("Быстрая / анимация, ×3", "Fast / animation, ×3"),
    "realesr-animevideov3-x2": ("Быстрая / анимация, ×2", "Fast / animation, ×2"),
    "realesrgan-x4plus": ("Универсальная — лучшее качество", "Universal — best quality"),
    "realesrgan-x4plus-anime": ("Аниме — лучшее качество", "Anime — best quality"),
}
HEIGHTS = [480, 720, 1080]
OFFERED_SCALES = [2, 4]
#: Content types of accepted source containers (anything else is served as octet-stream).
SOURCE_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".wmv": "video/x-ms-wmv",
    ".ogv": "video/ogg",
}
PROBE_STATUS = {"not_video": 415, "unsupported": 415, "too_large": 422, "corrupt": 422}
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such job or file"}}
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
                        "model": {
                            "type": "string",
                            "enum": list(MODELS),
                            "default": "realesr-animevideov3-x4",
                        },
                        "scale": {"type": "integer", "enum": [2, 3, 4]},
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


class Prober(Protocol):
    """contract.probe.probe's signature."""

    def __call__(
        self,
        path: Path,
        *,
        max_width: int,
        max_height: int,
        max_duration_s: float,
        timeout_s: float = ...,
    ) -> MediaInfo: ...


class Waker(Protocol):
    """Something to nudge after a job is committed (the outbox)."""

    def wake(self) -> None: ...


@dataclass
class Services:
    """Collaborators of the routes."""

    settings: Settings
    store: JobStore
    metrics: Metrics
    probe: Prober
    outbox: Waker | None = None
    #: Keyframe pts of an upload (contract.probe.keyframes), for segment planning.
    keyframes: Callable[[Path], list[int]] = read_keyframes


def build_router(svc: Services) -> APIRouter:
    """The /api routes bound to ``svc``."""
    router = APIRouter(prefix="/api", tags=["jobs"])
    root = svc.settings.STORAGE_ROOT

    def path_of(key: str | None) -> Path | None:
        if not key:
            return None
        try:
            path = storage.resolve(root, key)
        except storage.UnsafeKeyError:
            return None
        return path if path.is_file() else None

    def preview_path(job: Job, which: str) -> Path | None:
        key = job.preview_before_key if which == "before" else job.preview_after_key
        return path_of(key or storage.preview_key(job.id, which))

    def out(job: Job) -> JobOut:
        return job_out(job, lambda j, which: preview_path(j, which) is not None)

    def load(job_id: str) -> Job:
        job = svc.store.get(job_id) if len(job_id) == 32 else None
        if job is None:
            raise JobNotFound("no such job")
        return job

    @router.post(
        "/jobs",
        status_code=201,
        response_model=JobOut,
        openapi_extra=UPLOAD_BODY,
        responses={code: {"model": Problem} for code in (413, 415, 422, 507)},
    )
    async def create_job(request: Request) -> JobOut:
        """Upload a video (multipart: file, model, scale or height, upscale, describe) and queue it."""
        job_id = uuid4().hex
        length = request.headers.get("content-length")
        try:
            upload = await receive(
                request.stream(),
                request.headers.get("content-type"),
                int(length) if length and length.isdigit() else None,
                root=root,
                job_id=job_id,
                max_bytes=svc.settings.MAX_UPLOAD_BYTES,
            )
            try:
                options = parse_options(upload.fields)
                info = await run_in_threadpool(
                    svc.probe,
                    upload.path,
                    max_width=svc.settings.MAX_WIDTH,
                    max_height=svc.settings.MAX_HEIGHT,
                    max_duration_s=svc.settings.MAX_DURATION_S,
                )
                if options.upscale:
                    output_size(options, info.width, info.height)
                tasks = await run_in_threadpool(
                    segments.for_upload, upload.path, info, options,
                    seconds=svc.settings.SEGMENT_SECONDS, read_keyframes=svc.keyframes,
                )
                now = utcnow()
                job = Job(
                    id=job_id,
                    filename=upload.filename,
                    status=jobs.QUEUED,
                    published=False,
                    model=options.model,
                    scale=options.scale,
                    height=options.height,
                    upscale=options.upscale,
                    describe=options.describe,
                    input_key=upload.key,
                    size_bytes=upload.size,
                    input_width=info.width,
                    input_height=info.height,
                    input_duration_s=info.duration_s,
                    input_fps=float(info.fps),
                    input_frames=info.frames,
                    frames_total=info.frames,
                    progress=0.0,
                    frames_done=0,
                    created_at=now,
                    updated_at=now,
                    tasks=tasks,
                )
                await run_in_threadpool(svc.store.add, job)
            except ProbeError as exc:
                cls = UnsupportedMedia if PROBE_STATUS.get(exc.kind) == 415 else InvalidRequest
                raise cls(str(exc.reason)) from exc
            except BaseException:
                discard(root, job_id)
                raise
        except ApiError as exc:
            discard(root, job_id)
            svc.metrics.uploads.labels(str(exc.status_code)).inc()
            log.info("upload refused: %s", exc.detail, extra={"job_id": job_id, "status": exc.status_code})
            raise
        svc.metrics.uploads.labels("accepted").inc()
        svc.metrics.upload_bytes.inc(upload.size)
        log.info(
            "job queued",
            extra={"job_id": job_id, "status": jobs.QUEUED, "bytes": upload.size, "segments": len(tasks)},
        )
        if svc.outbox is not None:
            svc.outbox.wake()
        return out(job)

    @router.get("/jobs", response_model=list[JobOut])
    def list_jobs() -> list[JobOut]:
        """All jobs, newest first."""
        return [out(job) for job in svc.store.newest()]

    @router.get("/jobs/{job_id}", response_model=JobOut, responses=ERRORS)
    def get_job(job_id: str) -> JobOut:
        """One job."""
        return out(load(job_id))

    @router.delete(
        "/jobs/{job_id}",
        response_model=JobOut,
        responses={**ERRORS, 204: {"description": "Deleted"}},
    )
    def delete_job(job_id: str) -> Any:
        """Cancel a queued/running job (200), or delete a finished one with its files (204)."""
        job = load(job_id)
        if job.status in jobs.ACTIVE:
            job_now, cancelled = svc.store.update(job_id, cancel_with_marker)
            if job_now is None:
                raise JobNotFound("no such job")
            if cancelled:
                log.info("job cancelled", extra={"job_id": job_id, "status": jobs.CANCELLED})
            # Lost a race with a finishing job: show it as it is now; a second DELETE removes it.
            return out(job_now)
        if not svc.store.delete(job_id):
            raise JobNotFound("no such job")
        discard(root, job_id)
        log.info("job deleted", extra={"job_id": job_id})
        return Response(status_code=204)

    def cancel_with_marker(job: Job) -> bool:
        if not jobs.can_transition(job.status, jobs.CANCELLED):
            return False
        # The marker goes first: if the commit then fails the adapter still stops.
        marker = storage.resolve(root, storage.cancel_marker_key(job.id))
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(utcnow().isoformat())
        return jobs.cancel(job)

    @router.get("/jobs/{job_id}/result", response_class=FileResponse, responses=ERRORS)
    def get_result(job_id: str, download: bool = False) -> FileResponse:
        """The finished video (video/mp4, supports Range)."""
        job = load(job_id)
        path = path_of(job.output_key) if job.status == jobs.DONE else None
        if path is None:
            raise JobNotFound("the result is not ready")
        name = f"{Path(job.filename).stem}_{'upscaled' if job.upscale is not False else 'described'}.mp4"
        return FileResponse(
            path,
            media_type="video/mp4",
            filename=name,
            content_disposition_type="attachment" if download else "inline",
        )

    @router.get("/jobs/{job_id}/vtt", response_class=FileResponse, responses=ERRORS)
    def get_vtt(job_id: str) -> FileResponse:
        """The audio description's cues (text/vtt) of a finished job that asked for one."""
        job = load(job_id)
        path = path_of(job.vtt_key) if job.status == jobs.DONE else None
        if path is None:
            raise JobNotFound("this job has no audio description")
        return FileResponse(
            path,
            media_type="text/vtt",
            filename=f"{Path(job.filename).stem}.vtt",
            content_disposition_type="inline",
        )

    @router.get("/jobs/{job_id}/source", response_class=FileResponse, responses=ERRORS)
    def get_source(job_id: str) -> FileResponse:
        """The uploaded original (supports Range)."""
        job = load(job_id)
        path = path_of(job.input_key)
        if path is None:
            raise JobNotFound("the source file is gone")
        media_type = SOURCE_TYPES.get(path.suffix, "application/octet-stream")
        return FileResponse(
            path,
            media_type=media_type,
            filename=job.filename,
            content_disposition_type="inline",
        )

    @router.get("/jobs/{job_id}/preview/{which}", response_class=FileResponse, responses=ERRORS)
    def get_preview(job_id: str, which: Literal["before", "after"]) -> FileResponse:
        """A before/after still frame (image/jpeg)."""
        path = preview_path(load(job_id), which)
        if path is None:
            raise JobNotFound("no preview yet")
        return FileResponse(path, media_type="image/jpeg")

    @router.get("/config", response_model=ConfigOut, tags=["config"])
    def get_config() -> ConfigOut:
        """Models, limits and recent speeds for the page."""
        models = [
            ModelOut(id=m, scale=s, title_ru=TITLES.get(m, (m, m))[0], title_en=TITLES.get(m, (m, m))[1])
            for m, s in MODELS.items()
        ]
        return ConfigOut(
            models=models,
            max_upload_bytes=svc.settings.MAX_UPLOAD_BYTES,
            accepted=list(ACCEPTED_EXTENSIONS),
            heights=HEIGHTS,
            scales=OFFERED_SCALES,
            describe_languages=list(DESCRIBE_LANGUAGES),
            recent_fps=svc.store.recent_fps(),
        )

    return router
