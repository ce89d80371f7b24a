"""What a job's stages are: their exact call signatures, the one Progress and the one Result they share.

``adapter.job`` runs the stages; ``adapter.video.pipeline``, ``adapter.video.assembly`` and
``adapter.description``
implement them, and so do the tests' fakes. The input is probed once per job (``probe_input``) and
the ``MediaInfo`` handed to every stage, so no stage probes again. Stages take their files
positionally (any parameter names fit) and the rest by keyword. No heavy imports here: a guarded
child unpickles the stages through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from adapter.errors import InvalidInputError, LimitExceededError
from adapter.limits import Limits
from adapter.media import job_error
from contract.catalogue import Reason, reason
from contract.container import Container
from contract.media import MediaError
from contract.mediainfo import MediaInfo, ProbeError, Prober
from contract.messages import DescribeDensity, DescribeLang, JobOptions
from contract.messages import Segment as WireSegment

if TYPE_CHECKING:
    from adapter.description.detector import Describer
    from adapter.inference.base import Upscaler

#: A segment task's part of the video (``contract.messages.Segment``: pts range and planned frames,
#: both from the backend's plan). Stages get ``None`` for a whole video.
Segment = WireSegment


@dataclass(frozen=True)
class Progress:
    """Frames done so far (of the video, or frame-equivalents of the whole job), the total, frames/s, ETA."""

    frames_done: int
    frames_total: int
    fps: float
    eta_s: float | None
    #: Share of the pixels sent to the model so far (below 1 with region inference or repeated frames).
    share: float | None = None


@dataclass(frozen=True)
class Result:
    """What a stage or job wrote: frames, display size, wall seconds, frames sent to the model, WebVTT."""

    frames: int
    width: int
    height: int
    seconds: float
    inferred: int = 0
    vtt: Path | None = None
    #: What the run changed in the video and why (deinterlaced, timeline shifted...), for the user.
    notes: tuple[Reason, ...] = ()
    #: Share of the frames' pixels sent to the model (region inference and repeats make it smaller).
    share: float | None = None
    #: Whether the run wrote the original's playable «before» proxy (``adapter.video.proxy``).
    proxy: bool = False
    #: Pictures lost to damage and replaced by the last good one (``adapter.video.damage``).
    damaged: int = 0


class OnProgress(Protocol):
    """Receives progress reports (throttled by the caller as it likes)."""

    def __call__(self, progress: Progress, /) -> None: ...


class OnFraction(Protocol):
    """Receives a stage's progress as a fraction 0..1 (the description's steps)."""

    def __call__(self, fraction: float, /) -> None: ...


class ShouldStop(Protocol):
    """True once the job should stop (user's cancel or the worker's shutdown)."""

    def __call__(self) -> bool: ...



class RunPipeline(Protocol):
    """``adapter.video.pipeline.run``: upscale the input (or one segment of it) into ``output_path``."""

    def __call__(
        self,
        input_path: Path,
        output_path: Path,
        options: JobOptions,
        upscaler: Upscaler,
        /,
        *,
        info: MediaInfo,
        segment: Segment | None,
        on_progress: OnProgress,
        should_stop: ShouldStop,
        previews: tuple[Path, Path] | None,
        limits: Limits,
    ) -> Result: ...


class Assemble(Protocol):
    """``adapter.video.assembly.assemble``: join segment files and mux the input's other streams."""

    def __call__(
        self,
        input_path: Path,
        segments: Sequence[Path],
        output_path: Path,
        /,
        *,
        info: MediaInfo,
        should_stop: ShouldStop,
        limits: Limits,
        container: Container,
    ) -> Result: ...


class Described(Protocol):
    """What ``describe`` returns: the WebVTT it wrote (None: nothing found) and its notes for the user."""

    @property
    def vtt_path(self) -> Path | None: ...

    @property
    def notes(self) -> tuple[Reason, ...]: ...


class Describe(Protocol):
    """``adapter.description.describe``: add a spoken description track; ``info`` describes the source."""

    def __call__(
        self,
        input_path: Path,
        output_path: Path,
        /,
        *,
        lang: DescribeLang,
        describer: Describer | None,
        on_progress: OnFraction,
        should_stop: ShouldStop,
        info: MediaInfo,
        density: DescribeDensity,
    ) -> Described: ...



class DescriberFactory(Protocol):
    """Builds the configured describer (detector or captioner)."""

    def __call__(self) -> Describer: ...


def probe_input(probe: Prober, path: Path, limits: Limits) -> MediaInfo:
    """Probe ``path`` under ``limits``; refusals become the adapter's permanent errors."""
    try:
        return probe(
            path,
            max_width=limits.max_width,
            max_height=limits.max_height,
            max_duration_s=limits.max_duration_s,
            timeout_s=limits.probe_timeout_s,
        )
    except ProbeError as exc:
        error = LimitExceededError if exc.kind == "too_large" else InvalidInputError
        raise error(exc.reason) from exc
    except MediaError as exc:  # ffprobe timed out, was killed or is missing: not the file's fault
        raise job_error(exc, reason("media.damaged")) from exc
