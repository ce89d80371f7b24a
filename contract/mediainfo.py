"""What a probe found in a file (``MediaInfo``), and ``ProbeError`` when the file cannot be accepted."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol

from contract.catalogue import Reason, ReasonError

ProbeKind = Literal["not_video", "unsupported", "too_large", "corrupt"]


class ProbeError(ReasonError, ValueError):
    """The file cannot be accepted; ``reason`` is its catalogue :class:`Reason`, ``kind`` the category."""

    def __init__(self, kind: ProbeKind, why: Reason) -> None:
        super().__init__(why)
        self.kind: ProbeKind = kind


@dataclass(frozen=True)
class MediaInfo:
    """What the pipeline and the backend need to know about an input video.

    ``width``/``height`` are the *display* size (after rotation); ``frame_width``/``frame_height``
    are the stored size of decoded frames. ``rotation`` is the clockwise display rotation in
    degrees (0, 90, 180, 270) as ffprobe reports it. ``frames`` is the container's frame count
    when it has one, else ``round(duration_s * fps)`` (``frames_exact`` tells which).
    """

    width: int
    height: int
    frame_width: int
    frame_height: int
    rotation: int
    fps: Fraction
    time_base: Fraction
    duration_s: float
    frames: int
    frames_exact: bool
    audio_streams: int
    subtitle_streams: int
    pix_fmt: str
    color_range: str | None
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    format_name: str
    video_codec: str
    start_time_s: float = 0.0
    #: Where the container's timeline starts (its earliest stream); the output shifts every stream by it.
    container_start_s: float = 0.0
    #: ffprobe's field order flag (``progressive``, ``tt``, ``bb``, ``tb``, ``bt``; None when absent).
    field_order: str | None = None
    #: Sample (pixel) aspect ratio of the stored frames; 1 when square or untagged.
    sar: Fraction = Fraction(1)
    #: Codec of each subtitle stream, in stream order (they decide the output's container).
    subtitle_codecs: tuple[str, ...] = ()
    #: Attached files (fonts of styled subtitles, in MKV).
    attachments: int = 0

    @property
    def has_audio(self) -> bool:
        """Whether at least one audio stream is present."""
        return self.audio_streams > 0


class Prober(Protocol):
    """``contract.probe.probe``'s signature: what the backend and the adapter call to probe a file."""

    def __call__(
        self, path: Path, *, max_width: int, max_height: int, max_duration_s: float, timeout_s: float
    ) -> MediaInfo: ...
