"""One geometry per job: frames whose size changes mid-stream are fitted into the first frame's box."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def fitted_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with ``size``'s aspect that fits ``box`` (both width, height)."""
    (w, h), (box_w, box_h) = size, box
    scale = min(Fraction(box_w, w), Fraction(box_h, h))
    return min(box_w, max(1, round(w * scale))), min(box_h, max(1, round(h * scale)))


def letterbox(rgb: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """``rgb`` (H×W×3) centred on black in a ``box`` (width, height); unchanged when it already fills it."""
    box_w, box_h = box
    h, w = rgb.shape[:2]
    if (w, h) == (box_w, box_h):
        return rgb
    out = np.zeros((box_h, box_w, 3), dtype=rgb.dtype)
    top, left = (box_h - h) // 2, (box_w - w) // 2
    out[top : top + h, left : left + w] = rgb
    return out
