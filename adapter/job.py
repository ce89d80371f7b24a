"""One job's work: upscale (the pipeline) and/or describe (audio description), one progress bar for both.

Upscale only: the pipeline writes the output. Both: the pipeline writes an intermediate video, then
``describe`` adds the description track to it in the output. Describe only: ``describe`` reads the
input as it is. Progress is counted in frame-equivalents of the video, so the backend's bar moves
forward across stages; cancellation is honoured between stages and at each description step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter.errors import (
    InvalidInputError,
    JobCancelled,
    JobError,
    LimitExceededError,
    TransientJobError,
)
from adapter.limits import Limits
from contract.messages import JobOptions
from contract.probe import ProbeError
from contract.probe import probe as ffprobe

PipelineFn = Callable[..., Any]
UpscalerFactory = Callable[[str], Any]
DescribeFn = Callable[..., Any]
DescriberFactory = Callable[[], Any]
AssembleFn = Callable[..., Any]
ProbeFn = Callable[..., Any]
Emit = Callable[[Any], None]
StopFn = Callable[[], bool]

#: Share of the progress bar given to upscaling when a description follows (it is most of the work).
UPSCALE_SHARE = 0.8


@dataclass(frozen=True)
class Stages:
    """The job's collaborators: module-level functions or partials, so they pickle into a guarded child."""

    run_pipeline: PipelineFn
    make_upscaler: UpscalerFactory
    describe: DescribeFn | None = None
    make_describer: DescriberFactory | None = None
    probe: ProbeFn = ffprobe
    #: Joins segment files and muxes the source's other streams (``adapter.assembly.assemble``).
    assemble: AssembleFn | None = None


@dataclass(frozen=True)
class Work:
    """What one run reads, writes and was asked for (this run's temporaries); picklable."""

    input: Path
    output: Path
    previews: tuple[Path, Path] | None
    intermediate: Path
    options: JobOptions
    limits: Limits | None = None
    #: (start_pts, end_pts) of a segment task: only those frames, into a video-only segment file.
    segment: tuple[int | None, int | None] | None = None
    #: Segment files an assembly task joins into ``output``.
    segments: tuple[Path, ...] | None = None


@dataclass(frozen=True)
class StageProgress:
    """Progress of the whole job in frame-equivalents (same fields as the pipeline's Progress)."""

    frames_done: int
    frames_total: int
    fps: float
    eta_s: float | None


@dataclass(frozen=True)
class JobResult:
    """What a finished job wrote: output size and frames, wall seconds, and the WebVTT if described."""

    frames: int
    width: int
    height: int
    seconds: float
    vtt: Path | None = None


class Toolbox:
    """Upscalers and the describer, built on first use and kept for the next job."""

    def __init__(self, stages: Stages, wrap: Callable[[Any], Any] | None = None) -> None:
        self.stages = stages
        self._wrap = wrap or (lambda upscaler: upscaler)
        self._upscalers: dict[str, Any] = {}
        self._describer: Any = None

    def upscaler(self, model: str) -> Any:
        """The upscaler of ``model``; building it checks the model's contract."""
        if model not in self._upscalers:
            self._upscalers[model] = self._wrap(self.stages.make_upscaler(model))
        return self._upscalers[model]

    def describer(self) -> Any:
        """The configured describer, or None for ``describe``'s own default."""
        if self._describer is None and self.stages.make_describer is not None:
            self._describer = self.stages.make_describer()
        return self._describer

    def close(self) -> None:
        """Release the upscalers (model sessions, server connections)."""
        for upscaler in self._upscalers.values():
            close = getattr(upscaler, "close", None)
            if close is not None:
                close()
        self._upscalers.clear()


@dataclass(frozen=True)
class GuardedJob:
    """``execute`` as a picklable task for ``adapter.guard.run_guarded`` (tools built in the child)."""

    work: Work
    stages: Stages

    def __call__(self, *, on_progress: Emit, should_stop: StopFn) -> JobResult:
        return execute(self.work, self.stages, Toolbox(self.stages), on_progress, should_stop)


def execute(work: Work, stages: Stages, tools: Toolbox, on_progress: Emit, should_stop: StopFn) -> JobResult:
    """Run the stages the options ask for; the output (and its ``.vtt``) are ``work``'s temporaries."""
    options, started = work.options, time.monotonic()
    if work.segments is not None:
        return _assemble(work, stages, should_stop)
    if options.describe is not None and stages.describe is None:
        raise TransientJobError("this worker cannot add audio descriptions")  # another one may
    if options.upscale:
        share = UPSCALE_SHARE if options.describe else 1.0
        target = work.intermediate if options.describe else work.output
        # Only segment runs get the keyword, so pipelines from before segments still fit.
        extra = {"segment": work.segment} if work.segment is not None else {}
        done = stages.run_pipeline(
            work.input,
            target,
            options,
            tools.upscaler(options.model),
            on_progress=_upscale_progress(on_progress, share, started),
            should_stop=should_stop,
            previews=work.previews,
            limits=work.limits,
            **extra,
        )
        frames, width, height = done.frames, done.width, done.height
        if options.describe is None:
            return JobResult(frames, width, height, done.seconds)
        source = target
    else:
        share, source = 0.0, work.input
        frames, width, height = _measure(work, stages.probe)
    try:
        if should_stop():
            raise JobCancelled("stopped")  # between the stages
        report = _describe_progress(on_progress, frames, share, started, should_stop)
        vtt = _describe(work, stages, tools, source, report)
    finally:
        if source == work.intermediate:
            work.intermediate.unlink(missing_ok=True)
    return JobResult(frames, width, height, time.monotonic() - started, vtt)


def _assemble(work: Work, stages: Stages, should_stop: StopFn) -> JobResult:
    """Join the segment files into the output (stream copy) with the source's audio and metadata."""
    if stages.assemble is None:
        raise TransientJobError("this worker cannot assemble segments")  # another one may
    assert work.segments is not None
    done = stages.assemble(
        work.input, work.segments, work.output, should_stop=should_stop, limits=work.limits
    )
    return JobResult(done.frames, done.width, done.height, done.seconds)


def _measure(work: Work, probe: ProbeFn) -> tuple[int, int, int]:
    """Frames and size of an input described without upscaling, refused by the pipeline's own limits."""
    limits = work.limits or Limits()
    try:
        info = probe(
            work.input,
            max_width=limits.max_width,
            max_height=limits.max_height,
            max_duration_s=limits.max_duration_s,
        )
    except ProbeError as exc:
        raise (LimitExceededError if exc.kind == "too_large" else InvalidInputError)(exc.reason) from exc
    return int(info.frames), int(info.width), int(info.height)


def _describe(
    work: Work, stages: Stages, tools: Toolbox, source: Path, report: Callable[[float], None]
) -> Path:
    """Run ``describe`` into the output; bad input stays permanent, anything unexpected becomes transient."""
    assert stages.describe is not None  # checked before any work
    limits = work.limits or Limits()
    try:
        result = stages.describe(
            source,
            work.output,
            lang=work.options.describe,
            describer=tools.describer(),
            on_progress=report,
            max_duration_s=limits.max_duration_s,
        )
    except (JobError, JobCancelled):
        raise
    except Exception as exc:
        raise TransientJobError(f"the audio description failed ({type(exc).__name__})") from exc
    return Path(result.vtt_path)


def _eta(started: float, share: float) -> float | None:
    """Seconds left if the rest goes at the pace so far."""
    if share <= 0:
        return None
    return (time.monotonic() - started) * (1 - share) / share


def _upscale_progress(emit: Emit, share: float, started: float) -> Emit:
    """The pipeline's progress as is, or squeezed into the first ``share`` of the bar."""
    if share >= 1:
        return emit

    def report(progress: Any) -> None:
        total = max(progress.frames_total, 1)
        done = progress.frames_done * share
        emit(StageProgress(int(done), progress.frames_total, progress.fps, _eta(started, done / total)))

    return report


def _describe_progress(
    emit: Emit, frames: int, start: float, started: float, should_stop: StopFn
) -> Callable[[float], None]:
    """``describe``'s 0..1 fraction mapped onto the rest of the bar; a cancel stops it at the next step."""
    stage_started = time.monotonic()

    def report(fraction: float) -> None:
        if should_stop():
            raise JobCancelled("stopped")
        share = start + (1 - start) * min(max(fraction, 0.0), 1.0)
        done = int(frames * share)
        elapsed = time.monotonic() - stage_started
        fps = (done - int(frames * start)) / elapsed if elapsed > 0 else 0.0
        emit(StageProgress(done, frames, max(fps, 0.0), _eta(started, share)))

    return report
