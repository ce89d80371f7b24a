"""High bit depth around an 8-bit model: the model's change is applied to a high-precision upscale.

The models take and give 8-bit RGB. Feeding them a 10-bit picture rounded to 8 bits and encoding their
answer would band every smooth sky. Instead the decoded picture is kept at 16 bits (``Deep``), the model
sees its 8-bit rounding, and the output is the 16-bit picture upscaled (Lanczos) plus what the model
changed: its answer minus the same upscale of what it was given. Where the model changes nothing but
rounding (smooth areas), the output keeps the source's precision; edges, noise and blocks it removes come
through. Differences of at most ``DEADZONE`` 8-bit levels are treated as rounding, not as the model's work,
so the 8-bit steps it was given are not copied back into the smooth 16-bit picture.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import numpy.typing as npt

#: An RGB picture (H×W×3) at 16 bits per channel (rgb48).
Deep = npt.NDArray[np.uint16]
Image = npt.NDArray[np.uint8]
#: 8-bit levels of change the model may make to an area without it counting (its input's rounding).
DEADZONE = 1


def narrow(deep: Deep) -> Image:
    """The 8-bit rounding of a 16-bit picture (what the model is given)."""
    return np.minimum((deep.astype(np.uint32) + 128) >> 8, 255).astype(np.uint8)


def _interpolation(src: tuple[int, int], dst: tuple[int, int]) -> int:
    return cv2.INTER_AREA if dst[0] <= src[0] and dst[1] <= src[1] else cv2.INTER_LANCZOS4


def widen(base: Deep, given: Image, answer: Image, size: tuple[int, int]) -> Deep:
    """``base`` upscaled to ``size`` (width, height) plus the model's change (``answer`` at ``size``)."""
    src = (base.shape[1], base.shape[0])
    how = _interpolation(src, size)
    smooth = cv2.resize(base, size, interpolation=how).astype(np.int32)
    rounded = cv2.resize(given, size, interpolation=how).astype(np.int32)
    change = answer.astype(np.int32) - rounded
    change = np.sign(change) * np.maximum(np.abs(change) - DEADZONE, 0)
    return np.clip(smooth + change * 257, 0, 65535).astype(np.uint16)


def high_bit_depth(pix_fmt: str) -> bool:
    """Whether a pixel format stores more than 8 bits per component (10-bit phone video, ProRes...)."""
    try:
        components = av.VideoFormat(pix_fmt).components
    except (ValueError, TypeError):
        return False
    return max((c.bits for c in components), default=8) > 8
