"""Restoration strength: the model's output blended with a Lanczos resize of the input at the output size.

The blend is a per-channel convex combination of gamma-encoded R'G'B' values, which is the same as blending
in Y'CbCr: Y'CbCr is a linear transform of R'G'B' (BT.601/709 matrices), and a linear transform commutes
with a convex combination. It is deliberately not done in linear light: the models are trained and judged
on gamma-encoded pixels, and a gamma-space blend keeps 0.5 perceptually half-way.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

#: RGB frames; typed uint8 like the pipeline's, though 10-bit and HDR sources run at uint16 (dtype kept).
Image = npt.NDArray[np.uint8]


def lanczos(frame: Image, width: int, height: int) -> Image:
    """The classic resize the model output is blended with."""
    resized = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LANCZOS4)
    return cast(Image, resized.astype(frame.dtype, copy=False))


def blend(restored: Image, source: Image, strength: float) -> Image:
    """``strength`` × restored + (1 − strength) × Lanczos(source), rounded; 1 returns ``restored`` as is."""
    if strength >= 1.0:
        return restored
    height, width = restored.shape[:2]
    plain = lanczos(source, width, height)
    if strength <= 0.0:
        return plain
    # cv2.addWeighted rounds and saturates in one pass (uint8 or uint16), without a float copy of the frame.
    mixed = cv2.addWeighted(restored, strength, plain, 1.0 - strength, 0.0)
    return cast(Image, mixed.astype(restored.dtype, copy=False))
