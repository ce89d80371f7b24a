"""Deinterlacing before the model: ffmpeg's bwdif in a PyAV filter graph, fed the decoded frames in order.

bwdif halves the time base (a field lasts half a frame): its pictures' pts are in ``time_base / 2``,
one picture per frame (``frame`` mode) or per field (``field`` mode: 50i → 50p). The graph is rebuilt
when the frame size or pixel format changes mid-stream (a buffer source has one geometry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.filter

from contract.interlace import DeinterlaceOption, Parity, decide_mode, pictures_per_frame
from contract.mediainfo import MediaInfo

log = logging.getLogger(__name__)

#: bwdif's output time base is its input's times this.
TIME_BASE_FACTOR = Fraction(1, 2)


@dataclass(frozen=True)
class Deinterlace:
    """How a job deinterlaces: one picture per frame or per field, and which field comes first."""

    mode: Literal["frame", "field"]
    parity: Parity | None = None  # None: from each frame's own flags

    @property
    def rate_factor(self) -> int:
        """Pictures out per frame in."""
        return pictures_per_frame(self.mode)


class Deinterlacer:
    """Pushes decoded frames through bwdif and hands back the pictures that are ready."""

    def __init__(self, how: Deinterlace, time_base: Fraction) -> None:
        self._how = how
        self._time_base = time_base
        self._graph: av.filter.Graph | None = None
        self._shape: tuple[int, int, str] | None = None

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        """Feed one frame (pts in the source time base); the pictures now complete."""
        shape = (frame.width, frame.height, frame.format.name)
        pictures: list[av.VideoFrame] = []
        if shape != self._shape:
            pictures += self.flush()
            self._graph, self._shape = self._build(frame), shape
        assert self._graph is not None
        self._graph.push(frame)
        return pictures + self._drain()

    def flush(self) -> list[av.VideoFrame]:
        """End of stream (or of one geometry): the pictures still held back."""
        if self._graph is None:
            return []
        self._graph.push(None)
        pictures = self._drain()
        self._graph, self._shape = None, None
        return pictures

    def _build(self, frame: av.VideoFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format, time_base=self._time_base
        )
        mode = "send_field" if self._how.mode == "field" else "send_frame"
        bwdif = graph.add("bwdif", f"mode={mode}:parity={self._how.parity or 'auto'}:deint=all")
        sink = graph.add("buffersink")
        source.link_to(bwdif)
        bwdif.link_to(sink)
        graph.configure()
        return graph

    def _drain(self) -> list[av.VideoFrame]:
        assert self._graph is not None
        pictures: list[av.VideoFrame] = []
        while True:
            try:
                picture = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return pictures
            assert isinstance(picture, av.VideoFrame)
            pictures.append(picture)


def choose(
    path: Path,
    info: MediaInfo,
    option: DeinterlaceOption,
    *,
    parity: Parity | None = None,
    timeout_s: float,
    should_stop: Callable[[], bool] | None = None,
) -> Deinterlace | None:
    """How this job deinterlaces (None: not at all); ``auto`` looks at the file (contract.interlace).

    A queued job comes decided: the backend ran idet once at upload and sends the mode with the
    ``parity`` it found, so no task (one per segment) runs it again.
    """
    if option == "off":
        return None
    if option != "auto" and parity is not None:
        return Deinterlace(option, parity)
    mode, found = decide_mode(
        path,
        duration_s=info.duration_s,
        fps=float(info.fps),
        field_order=info.field_order,
        option=option,
        timeout_s=timeout_s,
        should_stop=should_stop,
    )
    if mode == "off":
        return None
    log.info("deinterlacing (%s, %s; flag %s)", mode, found or "auto", info.field_order)
    return Deinterlace(mode, found)
