"""Animated images as the pipeline's pictures: GIF, APNG and animated WebP frames composited on a background.

``contract.animation`` reads the frames (Pillow, whole canvases with disposal and blending applied) and
their delays (milliseconds, the timestamps here: variable frame rate kept). Video has no transparency, so
each picture is laid on the job's ``background`` colour (default black); an output that keeps
transparency (animated GIF or WebP, ``adapter.video.animated``) takes the alpha again from the source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from adapter.errors import InvalidInputError
from adapter.video.colour import RANGE_MPEG, SPC_BT709, Colour
from adapter.video.damage import Damage
from adapter.video.decode import SourceStream, StreamLimits, check_size
from contract import animation
from contract.mediainfo import MediaInfo

log = logging.getLogger(__name__)
#: Pictures are sRGB: BT.709 primaries and matrix (the transfer is as close as a video tag gets).
SRGB = Colour(SPC_BT709, 1, 1, RANGE_MPEG)


def parse_colour(text: str) -> tuple[int, int, int]:
    """``#rrggbb`` as an (r, g, b) triple (the options model checks the form)."""
    value = text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def composite(rgba: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """RGBA (straight alpha, uint8) laid on a solid colour: colour × alpha + background × (1 − alpha)."""
    alpha = rgba[..., 3:].astype(np.uint32)
    colour = rgba[..., :3].astype(np.uint32)
    under = np.asarray(background, dtype=np.uint32)
    return ((colour * alpha + under * (255 - alpha) + 127) // 255).astype(np.uint8)


class AnimationDecoder:
    """The pictures of an animated image, with the decoder's interface (``adapter.video.decode.Pictures``)."""

    def __init__(
        self,
        path: Path,
        info: MediaInfo,
        *,
        background: tuple[int, int, int] = (0, 0, 0),
        limits: StreamLimits | None = None,
    ) -> None:
        self._path, self._kind = Path(path), _kind(info)
        self._background, self._limits = background, limits
        self.time_base: Fraction = animation.TIME_BASE
        self.fps: Fraction = info.fps
        self.colour: Colour | None = SRGB
        self.resized = False
        #: Whether some picture had transparent pixels, laid on the background.
        self.flattened = False
        self.key = True
        self.others: list[SourceStream] = []
        self.damage = Damage()

    def frames(
        self, start_pts: int | None = None, end_pts: int | None = None
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Yield (RGB uint8 on the background, pts in ms) for the pictures in ``[start_pts, end_pts)``."""
        try:
            for rgba, pts in animation.frames(self._path, self._kind):
                if (start_pts is not None and pts < start_pts) or (end_pts is not None and pts >= end_pts):
                    continue
                if self._limits is not None:
                    check_size(rgba.shape[1], rgba.shape[0], self._limits)
                if not self.flattened and bool((rgba[..., 3] < 255).any()):
                    self.flattened = True
                    log.info("the animation has transparent pixels; they are laid on the background")
                self.damage.decoded += 1
                self.damage.total += 1
                yield composite(rgba, self._background), pts
        except animation.AnimationError as exc:
            raise InvalidInputError(exc.reason) from exc

    def close(self) -> None:
        """Nothing stays open between pictures (Pillow's file closes with each pass)."""


def _kind(info: MediaInfo) -> animation.AnimationFormat:
    for kind in animation.PILLOW_FORMATS:
        if info.format_name == kind:
            return kind
    raise ValueError(f"{info.format_name} is not an animated image")
