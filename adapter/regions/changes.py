"""Which blocks of a frame changed since they were last inferred: per-block mean and peak bounds.

Each block is compared with the input as it was when that block was last inferred (the caller's
reference), not with the previous frame, so a slow drift adds up until it is refreshed. A block counts
as changed when its mean difference exceeds ``mean`` or when any 2×2 patch in it differs by more than
``peak`` on average: the mean catches broad shifts, the peak a changed word or a cursor that is too
small to move a 16×16 mean. Codec noise on a still picture stays under both (tuned by bench/regions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

#: Block side in input pixels.
BLOCK = 16
Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Thresholds:
    """A block changed when its mean difference > ``mean`` or a 2×2 patch's mean difference > ``peak``."""

    # x264 CRF 23 on still photos (bench/regions.py): block means up to 1.42, 2×2 patches up to 3.0.
    mean: float = 2.0
    peak: float = 10.0


def _blocks(values: npt.NDArray[np.float32], block: int) -> npt.NDArray[np.float32]:
    """``values`` (H×W) padded with zeros to whole blocks, as (rows, cols, block, block)."""
    h, w = values.shape
    rows, cols = -(-h // block), -(-w // block)
    padded = np.zeros((rows * block, cols * block), np.float32)
    padded[:h, :w] = values
    return padded.reshape(rows, block, cols, block).swapaxes(1, 2)


def changed_blocks(frame: Image, reference: Image, limits: Thresholds, block: int = BLOCK) -> Mask:
    """A (rows, cols) mask of the blocks where ``frame`` differs from ``reference`` beyond ``limits``."""
    diff = cv2.absdiff(frame, reference).astype(np.float32).mean(axis=2)
    h, w = diff.shape
    area = np.ones((-(-h // block), -(-w // block)), np.float32) * block * block
    # Edge blocks are partial: average over the pixels they really have.
    area[-1, :] *= (h - (area.shape[0] - 1) * block) / block
    area[:, -1] *= (w - (area.shape[1] - 1) * block) / block
    mean = _blocks(diff, block).sum(axis=(2, 3)) / area
    patches = cv2.blur(diff, (2, 2), borderType=cv2.BORDER_REPLICATE)
    peak = _blocks(patches, block).max(axis=(2, 3))
    result: Mask = (mean > limits.mean) | (peak > limits.peak)
    return result
