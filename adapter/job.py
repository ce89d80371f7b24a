"""One job's work: upscale (the pipeline) and/or describe (audio description), one progress bar for both.

The input is probed once, here, and its ``MediaInfo`` handed to every stage. Upscale only: the
pipeline writes the output. Both: the pipeline writes an intermediate video, then ``describe`` adds
the description track to it in the output. Describe only: ``describe`` reads the input as it is.
Progress is counted in frame-equivalents of the video, so the backend's bar moves forward across
stages; cancellation is honoured between stages and at each description step.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from adapter.errors import JobCancelled, JobError, TransientJobError
from adapter.inference.base import UpscalerFactory
from adapter.limits import Limits
from adapter.restoration.auto import auto_denoise, auto_denoise_note
from adapter.video.proxy import write_proxy
from adapter.video.stages import (
    Assemble,
    Describe,
    DescriberFactory,
    OnFraction,
    OnProgress,
    Progress,
    Result,
    RunPipeline,
    Segment,
    ShouldStop,
    probe_input,
)
from contract.catalogue import Reason, reason
from contract.container import container_for
from contract.mediainfo import MediaInfo, Prober
from contract.messages import JobOptions
from contract.models import BY_ID, served_name
from contract.probe import probe as ffprobe

if TYPE_CHECKING:
    from adapter.description.detector import Describer
    from adapter.inference.base import Upscaler

#: Share of the progress bar given to upscaling when a description follows (it is most of the work).
UPSCALE_SHARE = 0.8


@dataclass(frozen=True)
class Stages:
    """The job's collaborators: module-level functions or partials, so they pickle into a guarded child."""

    run_pipeline: RunPipeline
    make_upscaler: UpscalerFactory
    describe: Describe | None = None
    make_describer: DescriberFactory | None = None
    probe: Prober = ffprobe
    #: Joins segment files and muxes the source's other streams (``adapter.video.assembly.assemble``).
    assemble: Assemble | None = None


@dataclass(frozen=True)
class Work:
    """What one run reads, writes and was asked for (this run's temporaries); picklable."""

    input: Path
    output: Path
    previews: tuple[Path, Path] | None
    intermediate: Path
    options: JobOptions
    limits: Limits | None = None
    #: The segment of a segment task: only those frames, into a video-only segment file.
    segment: Segment | None = None
    #: Segment files an assembly task joins into ``output``.
    segments: tuple[Path, ...] | None = None
    #: Where the original's playable «before» proxy goes, for the task that finishes the job (else None).
    proxy: Path | None = None


class Toolbox:
    """Upscalers and the describer, built on first use and kept for the next job."""

    def __init__(self, stages: Stages, wrap: Callable[[Upscaler], Upscaler] | None = None) -> None:
        self.stages = stages
        self._wrap = wrap
        self._upscalers: dict[str, Upscaler] = {}
        self._describer: Describer | None = None

    def upscaler(self, model: str) -> Upscaler:
        """The upscaler of ``model``; building it checks the model's contract."""
        if model not in self._upscalers:
            made = self.stages.make_upscaler(model)
            self._upscalers[model] = self._wrap(made) if self._wrap is not None else made
        return self._upscalers[model]

    def describer(self) -> Describer | None:
        """The configured describer, or None for ``describe``'s own default."""
        if self._describer is None and self.stages.make_describer is not None:
            self._describer = self.stages.make_describer()
        return self._describer

    def close(self) -> None:
        """Release the upscalers (model sessions, server connections)."""
        for upscaler in self._upscalers.values():
            upscaler.close()
        self._upscalers.clear()


@dataclass(frozen=True)
class GuardedJob:
    """``execute`` as a picklable task for ``adapter.worker.guard.run_guarded`` (tools built in the child)."""

    work: Work
    stages: Stages

    def __call__(self, *, on_progress: OnProgress, should_stop: ShouldStop) -> Result:
        tools = Toolbox(self.stages)
        try:
            return execute(self.work, self.stages, tools, on_progress, should_stop)
        finally:
            tools.close()


def execute(
    work: Work, stages: Stages, tools: Toolbox, on_progress: OnProgress, should_stop: ShouldStop
) -> Result:
    """Probe the input once, run the stages the options ask for; outputs are ``work``'s temporaries."""
    started, limits, options = time.monotonic(), work.limits or Limits(), work.options
    _check_abilities(work, stages)
    info = probe_input(stages.probe, work.input, limits)
    if work.segments is not None:
        joined = _assemble(work, stages, info, limits, should_stop)
        return _with_proxy(work, info, limits, should_stop, joined)
    if not options.upscale:
        report = _describe_progress(on_progress, info.frames, 0.0, started, should_stop)
        vtt, notes = _describe(work, stages, tools, work.input, info, report, should_stop)
        return Result(info.frames, info.width, info.height, _since(started), vtt=vtt, notes=notes)
    share = UPSCALE_SHARE if options.describe else 1.0
    target = work.intermediate if options.describe else work.output
    denoise, levels = options.denoise, BY_ID[options.model].denoise_levels
    if options.strength == "auto" and denoise is None and len(levels) > 1:  # Real-CUGAN: pick a level too
        denoise = auto_denoise(work.input, info, levels, work.segment.start_pts if work.segment else None)
    done = stages.run_pipeline(
        work.input,
        target,
        options,
        tools.upscaler(served_name(options.model, denoise)),
        info=info,
        segment=work.segment,
        on_progress=_upscale_progress(on_progress, share, started),
        should_stop=should_stop,
        previews=work.previews,
        limits=limits,
    )
    if denoise is not None and denoise != options.denoise:
        done = dataclasses.replace(done, notes=(*done.notes, auto_denoise_note(denoise)))
    if work.segment is None:
        done = _with_proxy(work, info, limits, should_stop, done)
    if options.describe is None:
        return done
    try:
        if should_stop():
            raise JobCancelled("stopped")  # between the stages
        report = _describe_progress(on_progress, done.frames, share, started, should_stop)
        vtt, notes = _describe(work, stages, tools, target, upscaled_info(info, done), report, should_stop)
    finally:
        target.unlink(missing_ok=True)
    return dataclasses.replace(done, seconds=_since(started), vtt=vtt, notes=done.notes + notes)


def _check_abilities(work: Work, stages: Stages) -> None:
    """Refuse, before any work, a task this worker lacks a stage for (another worker may have it)."""
    if work.segments is not None and stages.assemble is None:
        raise TransientJobError(reason("job.no_assembler"))
    if work.segments is None and work.options.describe is not None and stages.describe is None:
        raise TransientJobError(reason("job.no_describer"))


def _assemble(work: Work, stages: Stages, info: MediaInfo, limits: Limits, should_stop: ShouldStop) -> Result:
    """Join the segment files into the output (stream copy) with the source's audio and metadata."""
    assert stages.assemble is not None and work.segments is not None  # checked before any work
    container = container_for(work.options.container, info.subtitle_codecs, info.attachments)
    return stages.assemble(
        work.input,
        work.segments,
        work.output,
        info=info,
        should_stop=should_stop,
        limits=limits,
        container=container,
    )


def _with_proxy(work: Work, info: MediaInfo, limits: Limits, should_stop: ShouldStop, done: Result) -> Result:
    """``done``, after writing the original's playable proxy where the browser cannot play the original."""
    if work.proxy is None or not write_proxy(work.input, work.proxy, info, limits, should_stop):
        return done
    return dataclasses.replace(done, proxy=True)


def upscaled_info(info: MediaInfo, done: Result) -> MediaInfo:
    """The input's MediaInfo as the upscaled video has it: the same timing and streams, the new size."""
    turned = info.rotation in (90, 270)
    return dataclasses.replace(
        info,
        width=done.width,
        height=done.height,
        frame_width=done.height if turned else done.width,
        frame_height=done.width if turned else done.height,
        frames=done.frames,
    )


def _describe(
    work: Work,
    stages: Stages,
    tools: Toolbox,
    source: Path,
    info: MediaInfo,
    report: OnFraction,
    should_stop: ShouldStop,
) -> tuple[Path | None, tuple[Reason, ...]]:
    """Run ``describe`` into the output: its WebVTT (None: nothing found) and notes (what it added).

    Bad input stays permanent, anything unexpected becomes transient.
    """
    assert stages.describe is not None and work.options.describe is not None  # checked before any work
    try:
        result = stages.describe(
            source,
            work.output,
            lang=work.options.describe,
            describer=tools.describer(),
            on_progress=report,
            should_stop=should_stop,
            info=info,
            density=work.options.density,
        )
    except (JobError, JobCancelled):
        raise
    except Exception as exc:
        raise TransientJobError(reason("job.description_failed", error=type(exc).__name__)) from exc
    vtt = None if result.vtt_path is None else Path(result.vtt_path)
    return vtt, tuple(result.notes)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _eta(started: float, share: float) -> float | None:
    """Seconds left if the rest goes at the pace so far."""
    if share <= 0:
        return None
    return (time.monotonic() - started) * (1 - share) / share


def _upscale_progress(emit: OnProgress, share: float, started: float) -> OnProgress:
    """The pipeline's progress as is, or squeezed into the first ``share`` of the bar."""
    if share >= 1:
        return emit

    def report(progress: Progress, /) -> None:
        total = max(progress.frames_total, 1)
        done = progress.frames_done * share
        eta = _eta(started, done / total)
        emit(Progress(int(done), progress.frames_total, progress.fps, eta, share=progress.share))

    return report


def _describe_progress(
    emit: OnProgress, frames: int, start: float, started: float, should_stop: ShouldStop
) -> OnFraction:
    """``describe``'s 0..1 fraction mapped onto the rest of the bar; a cancel stops it at the next step."""
    stage_started = time.monotonic()

    def report(fraction: float, /) -> None:
        if should_stop():
            raise JobCancelled("stopped")
        share = start + (1 - start) * min(max(fraction, 0.0), 1.0)
        done = int(frames * share)
        elapsed = time.monotonic() - stage_started
        fps = (done - int(frames * start)) / elapsed if elapsed > 0 else 0.0
        emit(Progress(done, frames, max(fps, 0.0), _eta(started, share)))

    return report
