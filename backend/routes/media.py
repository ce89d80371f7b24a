"""Routes of a job's files: the result, the description's cues, the uploaded source and the previews."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from contract.catalogue import Reason, reason
from contract.container import MEDIA_TYPES, SUFFIXES, container_of_suffix

from .. import jobs
from ..deps import MediaJobDep, SettingsDep
from ..errors import JobNotFound
from ..views import NOT_FOUND, preview_path, stored

router = APIRouter(tags=["jobs"])


class HeldFile(FileResponse):
    """A file response over a descriptor opened in the route, before the response starts.

    The janitor (retention) or a delete may unlink the file meanwhile: POSIX keeps an unlinked file
    readable through an open descriptor, so a download (or a Range request) under way completes.
    """

    def __init__(self, path: Path, gone: Reason, **kwargs: Any) -> None:
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError as exc:
            raise JobNotFound(gone) from exc
        super().__init__(path, stat_result=os.fstat(self._fd), **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A server's "pathsend" would re-open the path, which may be gone: always send from the descriptor.
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            os.close(self._fd)

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        file = anyio.wrap_file(os.fdopen(os.dup(self._fd), "rb"))
        try:
            await file.seek(0)
            yield file
        finally:
            with anyio.CancelScope(shield=True):
                await file.aclose()


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
    ".mts": "video/mp2t",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".vob": "video/mpeg",
    ".wmv": "video/x-ms-wmv",
    ".ogv": "video/ogg",
    ".gif": "image/gif",
    ".apng": "image/apng",
    ".png": "image/png",
    ".webp": "image/webp",
}


@router.get("/jobs/{job_id}/result", response_class=FileResponse, responses=NOT_FOUND)
def get_result(job: MediaJobDep, settings: SettingsDep, download: bool = False) -> FileResponse:
    """The finished video (video/mp4, or video/x-matroska where MKV keeps subtitles; supports Range)."""
    path = stored(settings.STORAGE_ROOT, job.output_key) if job.status == jobs.DONE else None
    if path is None:
        raise JobNotFound(reason("http.result_not_ready"))
    container = container_of_suffix(path.suffix) or "mp4"
    what = "upscaled" if job.upscale is not False else "described"
    name = f"{Path(job.filename).stem}_{what}{SUFFIXES[container]}"
    return HeldFile(
        path,
        reason("http.result_not_ready"),
        media_type=MEDIA_TYPES[container],
        filename=name,
        content_disposition_type="attachment" if download else "inline",
    )


@router.get("/jobs/{job_id}/vtt", response_class=FileResponse, responses=NOT_FOUND)
def get_vtt(job: MediaJobDep, settings: SettingsDep) -> FileResponse:
    """The audio description's cues (text/vtt) of a finished job that asked for one."""
    path = stored(settings.STORAGE_ROOT, job.vtt_key) if job.status == jobs.DONE else None
    if path is None:
        raise JobNotFound(reason("http.no_description"))
    name = f"{Path(job.filename).stem}.vtt"
    return HeldFile(
        path,
        reason("http.no_description"),
        media_type="text/vtt",
        filename=name,
        content_disposition_type="inline",
    )


@router.get("/jobs/{job_id}/source", response_class=FileResponse, responses=NOT_FOUND)
def get_source(job: MediaJobDep, settings: SettingsDep) -> FileResponse:
    """The uploaded original (supports Range)."""
    path = stored(settings.STORAGE_ROOT, job.input_key)
    if path is None:
        raise JobNotFound(reason("http.source_gone"))
    media_type = SOURCE_TYPES.get(path.suffix, "application/octet-stream")
    return HeldFile(
        path,
        reason("http.source_gone"),
        media_type=media_type,
        filename=job.filename,
        content_disposition_type="inline",
    )


@router.get("/jobs/{job_id}/source/proxy", response_class=FileResponse, responses=NOT_FOUND)
def get_source_proxy(job: MediaJobDep, settings: SettingsDep) -> FileResponse:
    """The playable copy (video/mp4) of an original the browser cannot play (supports Range)."""
    path = stored(settings.STORAGE_ROOT, job.source_proxy_key)
    if path is None:
        raise JobNotFound(reason("http.source_gone"))
    return HeldFile(
        path,
        reason("http.source_gone"),
        media_type="video/mp4",
        filename=f"{Path(job.filename).stem}_preview.mp4",
        content_disposition_type="inline",
    )


@router.get("/jobs/{job_id}/preview/{which}", response_class=FileResponse, responses=NOT_FOUND)
def get_preview(job: MediaJobDep, settings: SettingsDep, which: Literal["before", "after"]) -> FileResponse:
    """A before/after still frame (image/jpeg)."""
    path = preview_path(settings.STORAGE_ROOT, job, which)
    if path is None:
        raise JobNotFound(reason("http.no_preview"))
    return HeldFile(path, reason("http.no_preview"), media_type="image/jpeg")
