"""Rectangles to infer: changed blocks dilated by the field, merged while that pays, padded to buckets.

A rectangle is pasted (its "paste" part) only where the output may have changed: the changed blocks
grown by the model's receptive field. Its "window" adds the field again as image context on every side
(none is needed at a frame edge, where the model's zero padding is the full frame's), then grows to a
bucket size with more image context, so calls batch and fit TensorRT profiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from adapter.regions.changes import BLOCK, Mask

#: Bucket sides (input pixels); a side longer than the last takes the frame's own side.
BUCKETS = (64, 96, 128, 192, 256, 384, 512)
#: What one more model call costs, in input pixels of model work (merging two rectangles saves it).
CALL_COST = 64 * 64


@dataclass(frozen=True)
class Rect:
    """A rectangle in input pixels: top, left, height, width."""

    y: int
    x: int
    h: int
    w: int

    @property
    def area(self) -> int:
        """Pixels covered."""
        return self.h * self.w

    def union(self, other: Rect) -> Rect:
        """The bounding box of both."""
        y, x = min(self.y, other.y), min(self.x, other.x)
        bottom, right = max(self.y + self.h, other.y + other.h), max(self.x + self.w, other.x + other.w)
        return Rect(y, x, bottom - y, right - x)


@dataclass(frozen=True)
class Crop:
    """One model input: ``window`` (a bucket-sized part of the frame) and the ``paste`` part inside it."""

    window: Rect
    paste: Rect


def bucket(side: int, frame_side: int) -> int:
    """The smallest bucket side holding ``side``, never more than the frame's side."""
    return min(next((b for b in BUCKETS if b >= side), frame_side), frame_side)


def _window(paste: Rect, field: int, height: int, width: int) -> Rect:
    """``paste`` with ``field`` of context on each side, grown to a bucket and kept inside the frame."""
    sides = []
    for start, size, frame_side in ((paste.y, paste.h, height), (paste.x, paste.w, width)):
        low, high = max(0, start - field), min(frame_side, start + size + field)
        side = bucket(high - low, frame_side)
        # Centred on the context, then shifted back inside the frame: the extra is image, not padding.
        begin = min(max(0, low - (side - (high - low)) // 2), frame_side - side)
        sides.append((begin, side))
    return Rect(sides[0][0], sides[1][0], sides[0][1], sides[1][1])


def _cost(paste: Rect, field: int, height: int, width: int) -> int:
    """Model work of one rectangle: its bucket-sized window plus one call."""
    return _window(paste, field, height, width).area + CALL_COST


def _merged(rects: list[Rect], field: int, height: int, width: int) -> list[Rect]:
    """Merge pairs while one rectangle costs no more than two (bounding boxes of the merged pairs)."""
    rects = list(rects)
    merging = True
    while merging:
        merging = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                union = rects[i].union(rects[j])
                apart = _cost(rects[i], field, height, width) + _cost(rects[j], field, height, width)
                if _cost(union, field, height, width) <= apart:
                    rects[i] = union
                    del rects[j]
                    merging = True
                    break
            if merging:
                break
    return rects


def crops(changed: Mask, field: int, height: int, width: int, block: int = BLOCK) -> list[Crop]:
    """The crops that bring every output pixel a change may reach up to date."""
    if not changed.any():
        return []
    reach = math.ceil(field / block)
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    grown = cv2.dilate(changed.astype(np.uint8), kernel)
    count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    rects = []
    for left, top, w, h, _area in stats[1:count]:
        y, x = int(top) * block, int(left) * block
        rects.append(Rect(y, x, min(int(h) * block, height - y), min(int(w) * block, width - x)))
    return [Crop(_window(r, field, height, width), r) for r in _merged(rects, field, height, width)]
