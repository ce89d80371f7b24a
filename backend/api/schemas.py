"""JSON shapes of the HTTP API (docs/architecture.md) and how a stored job becomes one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel

from backend.jobs.db import Job
from contract import limits

#: The catalogue code of a retry because the model server was up but behind (adapter ModelOverloadedError).
OVERLOADED_CODE = "job.model_overloaded"


class InputInfo(BaseModel):
    """The uploaded video as probed."""

    width: int
    height: int
    duration_s: float
    fps: float


class OutputInfo(BaseModel):
    """The finished video."""

    width: int
    height: int
    frames: int


class NoteOut(BaseModel):
    """Something the run changed in the video and why: a catalogue code and parameters the page words."""

    code: str
    params: dict[str, int | float | str] = {}


class QueueOut(BaseModel):
    """A waiting job's place in the fair queue (1 = next) and about when it starts (None: not known yet)."""

    position: int
    starts_in_s: int | None


class RetryOut(BaseModel):
    """A retry the adapter scheduled: the attempt it will be, of how many, when, and the failure before it.

    ``code``/``params`` are that failure's catalogue reason and ``detail`` its English text; ``infra`` is
    true while waiting for the model server (not counted as an attempt).
    """

    attempt: int
    of: int
    at: datetime
    code: str | None
    params: dict[str, int | float | str] = {}
    detail: str | None
    infra: bool = False


class RetriedOut(BaseModel):
    """Why the job's task was last retried: kept while the job runs on, so its card can say which
    attempt this is and why («Попытка 2 из 5 — сервер был перегружен, продолжаем сами»).

    ``code``/``params`` are the failure's catalogue reason, ``detail`` its English text; ``infra`` is true
    for a wait on the model server that used no attempt, ``overloaded`` when that server was up but
    behind (``job.model_overloaded``) rather than down.
    """

    code: str | None
    params: dict[str, int | float | str] = {}
    detail: str | None
    infra: bool = False
    overloaded: bool = False


class JobOut(BaseModel):
    """A job as the page sees it."""

    id: str
    filename: str
    status: str
    progress: float
    frames_done: int
    frames_total: int
    fps: float | None
    eta_s: float | None
    #: English text of the failure (or of a retry while queued), for logs and rows from before codes.
    error: str | None
    #: Catalogue code of that reason (``contract.catalogue``) and its parameters; the page translates them.
    error_code: str | None = None
    error_params: dict[str, int | float | str] = {}
    model: str
    scale: int | None
    height: int | None
    upscale: bool
    describe: str | None
    #: How much the description says (``brief``, ``normal``, ``detailed``); null without a description.
    density: str | None = None
    created_at: datetime
    updated_at: datetime
    input: InputInfo
    output: OutputInfo | None
    result_url: str | None
    vtt_url: str | None
    preview_before_url: str | None
    preview_after_url: str | None
    #: The uploaded original (signed in integrated mode, like every ``*_url``).
    source_url: str | None = None
    #: A small playable (H.264 MP4) copy of an original the browser cannot play; null when it plays as is.
    source_proxy_url: str | None = None
    #: Segments the job was cut into (0: it runs as one task) and how many are stored.
    segments: int = 0
    segments_done: int = 0
    #: Only while the job waits (status ``queued``): its place in the fair queue; else null.
    queue: QueueOut | None = None
    #: A quick test run: where its excerpt starts in the original (None: the whole video).
    excerpt_start: float | None = None
    #: The deinterlace option (``auto``, ``off``, ``frame``, ``field``).
    deinterlace: str = "auto"
    #: Region inference (``off``, ``auto``) and the share of the frames' pixels the model ran on, once done.
    regions: str = "off"
    inferred_share: float | None = None
    #: Pictures lost to damage and replaced by the last good one, once done (the note says how many).
    damaged_frames: int | None = None
    #: What transparent pixels of an animated image lie on where the output has no alpha (``#rrggbb``).
    background: str = "#000000"
    #: HDR input kept HDR (``keep``) or tone-mapped to SDR (``sdr``).
    hdr: str = "keep"
    #: The estimated processing seconds on this server, made at upload (null when not estimated).
    estimate_s: float | None = None
    #: The output's container (``mp4``, or ``mkv`` to keep subtitles MP4 cannot carry).
    container: str = "mp4"
    #: Restoration strength ("0".."1" or "auto"; the value auto chose is in ``notes``) and denoise level.
    strength: str = "1"
    denoise: int | None = None
    #: What the run changed in the video (deinterlaced, timeline shifted...), once it is done.
    notes: list[NoteOut] = []
    #: The scheduled retry while the job waits for it (docs/api.md); null otherwise.
    retry: RetryOut | None = None
    #: The attempt the job is on (1-based) of at most ``attempts``; a wait for the model server (down or
    #: overloaded) uses none. ``progress``, ``frames_done``, ``frames_total``, ``fps`` and ``eta_s`` always
    #: belong to the current ``run``: every retry, model-server wait or redelivery starts a new run (the
    #: number grows by at least one) from frame 0, and the progress fields start again with it.
    attempt: int = 1
    attempts: int = limits.TASK_ATTEMPTS
    run: int = 1
    #: Why the last retry happened, while the job is active (null when it never was retried).
    retried: RetriedOut | None = None
    #: When retention deletes this finished job with its files (None: still active, or kept forever).
    expires_at: datetime | None = None


class UsageOut(BaseModel):
    """What the caller's jobs take: stored bytes and active jobs, against their quotas (0: no limit)."""

    #: What counts against ``quota_bytes``: the jobs' files on disk plus ``reserved_bytes``.
    stored_bytes: int
    #: Bytes promised to uploads still arriving (a tus upload's whole Upload-Length from its creation).
    reserved_bytes: int = 0
    quota_bytes: int
    active_jobs: int
    active_jobs_limit: int
    jobs: int
    #: How long a finished job is kept (0: forever).
    retention_s: float


class ShareOut(BaseModel):
    """A share link to a finished job's result (and its previews and cues), valid without credentials."""

    result_url: str
    vtt_url: str | None
    preview_before_url: str | None
    preview_after_url: str | None
    expires_at: datetime
    #: A short link to a small page that plays the result (``/w/<token>``, issue 26), valid as long.
    watch_url: str | None = None


class WatchOut(BaseModel):
    """What a watch link's page shows: the title, the result and its previews by signed links."""

    filename: str
    width: int
    height: int
    describe: str | None
    result_url: str
    vtt_url: str | None
    preview_before_url: str | None
    preview_after_url: str | None
    expires_at: datetime


class AuthOut(BaseModel):
    """How the page learns who it is: the identity mode and the origins that may hand it a token."""

    mode: str
    embed_origins: list[str]


class ModelOut(BaseModel):
    """One offered model."""

    id: str
    scale: int
    title_ru: str
    title_en: str
    #: One line on what the model is for.
    about_ru: str = ""
    about_en: str = ""


class ConfigOut(BaseModel):
    """What the page needs to build its form."""

    models: list[ModelOut]
    default_model: str
    max_upload_bytes: int
    #: The input limits the page checks before sending (the server checks again after the upload).
    max_duration_s: float | None = None
    max_width: int | None = None
    max_height: int | None = None
    #: The resumable (tus 1.0.0) upload endpoint; ``POST /api/jobs`` (multipart) stays for scripts.
    upload_url: str | None = None
    accepted: list[str]
    heights: list[int]
    scales: list[int]
    #: The output box (width, height), either way round: larger results are refused.
    max_output: list[int]
    describe_languages: list[str]
    recent_fps: dict[str, float]
    auth: AuthOut | None = None
    #: What ``auto`` precision picks on this host's CPU per quantized model, and why (contract/precision.py).
    precision: dict[str, object] | None = None


class Problem(BaseModel):
    """Error body: the English sentence, its catalogue code and the code's parameters."""

    detail: str
    code: str
    params: dict[str, int | float | str] = {}


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _plain(path: str) -> str:
    return path


def job_out(job: Job, has_preview: Callable[[Job, str], bool], link: Callable[[str], str] = _plain) -> JobOut:
    """Serialise a job; URLs (made by ``link``: plain, or signed) only for files that exist."""
    base = f"/api/jobs/{job.id}"
    output = None
    if job.status == "done" and job.output_width is not None and job.output_height is not None:
        output = OutputInfo(width=job.output_width, height=job.output_height, frames=job.output_frames or 0)
    return JobOut(
        id=job.id,
        filename=job.filename,
        status=job.status,
        progress=round(job.progress, 4),
        frames_done=job.frames_done,
        frames_total=job.frames_total,
        fps=None if job.fps is None else round(job.fps, 2),
        eta_s=None if job.eta_s is None else round(job.eta_s, 1),
        error=job.error,
        error_code=job.error_code,
        error_params=job.error_params or {},
        model=job.model,
        scale=job.scale,
        height=job.height,
        upscale=job.upscale,
        describe=job.describe,
        density=job.description_density if job.describe else None,
        created_at=_utc(job.created_at),
        updated_at=_utc(job.updated_at),
        input=InputInfo(
            width=job.input_width,
            height=job.input_height,
            duration_s=round(job.input_duration_s, 3),
            fps=round(job.input_fps, 3),
        ),
        output=output,
        result_url=link(f"{base}/result") if output is not None else None,
        vtt_url=link(f"{base}/vtt") if output is not None and job.vtt_key else None,
        preview_before_url=link(f"{base}/preview/before") if has_preview(job, "before") else None,
        preview_after_url=link(f"{base}/preview/after") if has_preview(job, "after") else None,
        source_url=link(f"{base}/source"),
        source_proxy_url=link(f"{base}/source/proxy") if job.source_proxy_key else None,
        segments=sum(1 for t in job.tasks if t.kind == "segment"),
        segments_done=sum(1 for t in job.tasks if t.kind == "segment" and t.status == "done"),
        deinterlace=job.deinterlace,
        regions=job.regions,
        inferred_share=job.inferred_share,
        damaged_frames=job.damaged_frames,
        background=job.background,
        hdr=job.hdr,
        estimate_s=job.estimate_s,
        container=job.container,
        excerpt_start=job.excerpt_start,
        strength=job.strength,
        denoise=job.denoise,
        notes=[NoteOut.model_validate(note) for note in job.notes or []],
        retry=retry_out(job),
        attempt=job.attempt or 1,
        attempts=job.attempts or limits.TASK_ATTEMPTS,
        run=job.run or 1,
        retried=retried_out(job),
    )


def retry_out(job: Job) -> RetryOut | None:
    """The job's scheduled retry while it is still active and the retry has not started."""
    if job.retry_at is None or job.status not in ("queued", "running") or job.attempt is None:
        return None
    return RetryOut(
        attempt=job.attempt,
        of=job.attempts or job.attempt,
        at=_utc(job.retry_at),
        code=job.retry_code,
        params=job.retry_params or {},
        detail=job.retry_error,
        infra=bool(job.retry_infra),
    )


def retried_out(job: Job) -> RetriedOut | None:
    """Why the active job was last retried (None for a job never retried, or one that has finished)."""
    if job.status not in ("queued", "running") or (job.retry_code is None and job.retry_error is None):
        return None
    return RetriedOut(
        code=job.retry_code,
        params=job.retry_params or {},
        detail=job.retry_error,
        infra=bool(job.retry_infra),
        overloaded=job.retry_code == OVERLOADED_CODE,
    )
