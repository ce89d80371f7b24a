"""Animated images (GIF, APNG, animated WebP): recognised by their content, described and read with Pillow.

ffmpeg's demuxers for them stay off the allow-lists (Debian's ffmpeg 5.1 cannot decode animated WebP at
all); Pillow reads them instead, and only them: ``Image.open`` is told the one format the first bytes
name, so a playlist or any other file is refused unread, and a GIF named ``clip.mp4`` is a GIF. Each
frame's delay becomes its timestamp in milliseconds (variable frame rate kept); a still picture is
refused with ``media.still_image``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from contract.catalogue import Reason, ReasonError, reason

AnimationFormat = Literal["gif", "apng", "webp"]
#: The probe's ``format_name`` (and ``video_codec``) of each kind, and the Pillow plugin that reads it.
PILLOW_FORMATS: dict[AnimationFormat, str] = {"gif": "GIF", "apng": "PNG", "webp": "WEBP"}
#: Extensions of animated pictures and the MIME type an original is served back as.
TYPES: dict[str, str] = {".gif": "image/gif", ".apng": "image/apng", ".png": "image/png", ".webp":
"image/webp"}
EXTENSIONS: tuple[str, ...] = tuple(TYPES)
#: Timestamps are milliseconds.
TIME_BASE = Fraction(1, 1000)
#: Browsers show a GIF delay of 0 or 10 ms as 100 ms (the GIF spec has no "as fast as possible").
SHORTEST_DELAY_MS = 20
BROWSER_DELAY_MS = 100


class AnimationError(ReasonError, ValueError):
    """The file is not an animation this service reads; ``kind`` is the probe's category."""

    def __init__(self, kind: Literal["not_video", "corrupt"], why: Reason) -> None:
        super().__init__(why)
        self.kind = kind


@dataclass(frozen=True)
class Facts:
    """What the probe needs of an animation: canvas size, frame delays, transparency."""

    width: int
    height: int
    delays_ms: tuple[int, ...]
    transparent: bool

    @property
    def duration_ms(self) -> int:
        """The whole animation's length (one loop)."""
        return sum(self.delays_ms)


def sniff(head: bytes) -> AnimationFormat | None:
    """The animated-image kind the first bytes name (a PNG counts once it has an animation chunk)."""
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "apng"  # a still PNG is refused as a still picture below, with its own code
    return None


def open_image(path: Path, kind: AnimationFormat) -> Image.Image:
    """The file opened by the one Pillow plugin of ``kind`` (no other reader is tried)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path, formats=[PILLOW_FORMATS[kind]])
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AnimationError("corrupt", reason("media.damaged")) from exc
    except OSError as exc:
        raise AnimationError("corrupt", reason("media.unreadable")) from exc


def describe(path: Path, kind: AnimationFormat) -> Facts:
    """Size, delays and transparency of an animation; a still picture is refused (``media.still_image``)."""
    image = open_image(path, kind)
    try:
        count = getattr(image, "n_frames", 1)
        if count < 2:
            raise AnimationError("not_video", reason("media.still_image"))
        transparent = False
        found: list[int] = []
        for index in range(count):
            image.seek(index)
            if kind == "webp":
                image.load()  # WebP tells a picture's delay only once it is decoded
            transparent = transparent or image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            found.append(_delay(image))
        return Facts(image.width, image.height, tuple(found), transparent)
    except AnimationError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise AnimationError("corrupt", reason("media.damaged")) from exc
    finally:
        image.close()


def _delay(image: Image.Image) -> int:
    """The current frame's delay in ms, as browsers show it (0 and 10 ms become 100 ms)."""
    delay = round(float(image.info.get("duration") or 0))
    return BROWSER_DELAY_MS if delay < SHORTEST_DELAY_MS else delay


def frames(path: Path, kind: AnimationFormat) -> Iterator[tuple[npt.NDArray[np.uint8], int]]:
    """(RGBA uint8 H×W×4 of the whole canvas, pts in ms) of every frame, disposal and blending applied."""
    image = open_image(path, kind)
    try:
        pts = 0
        for index in range(getattr(image, "n_frames", 1)):
            try:
                image.seek(index)
                image.load()
                rgba = np.asarray(image.convert("RGBA"))
            except (OSError, ValueError, EOFError) as exc:
                raise AnimationError("corrupt", reason("media.decode_failed")) from exc
            yield rgba, pts
            pts += _delay(image)
    finally:
        image.close()
