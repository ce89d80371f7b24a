"""A run's region planner: what to infer for each frame, from the input each block was last inferred on.

One planner per run (per segment task too), so every run starts with a full frame. A frame is inferred
whole at a keyframe, at a scene cut (most blocks changed: full motion too), every ``refresh_s`` seconds,
and whenever its crops would cost more than ``FALLBACK_SHARE`` of the frame; otherwise only its crops are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from adapter.regions.changes import BLOCK, Image, Thresholds, changed_blocks
from adapter.regions.plan import Crop, crops

#: Share of changed blocks from which a frame counts as a new scene (refreshed whole).
CUT_SHARE = 0.5
#: Largest share of the frame's pixels the crops may cost. A crop costs no more per pixel than a whole
#: frame (bench/regions.py), but each carries its own call; above this a full frame batches and is safe.
FALLBACK_SHARE = 0.6


@dataclass(frozen=True)
class Work:
    """What to infer for one frame: the whole frame (``full``), or ``crops`` (none: reuse the canvas)."""

    full: bool
    crops: tuple[Crop, ...] = ()
    #: Share of the frame's pixels sent to the model (windows, after dilation and padding).
    share: float = 1.0
    why: str = ""


@dataclass
class Planner:
    """Plans each frame in decode order and keeps the per-block reference and the inferred-pixel tally."""

    #: The model's receptive field (input pixels, ``adapter.regions.field``).
    radius: int
    fps: float
    refresh_s: float = 2.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    fallback_share: float = FALLBACK_SHARE
    reference: Image | None = None
    since_refresh: int = 0
    #: Frame-equivalents inferred and frames planned: their ratio is the share of pixels inferred.
    inferred: float = 0.0
    planned: int = 0

    @property
    def share(self) -> float:
        """Share of the planned frames' pixels that went to the model so far."""
        return self.inferred / self.planned if self.planned else 1.0

    def plan(self, frame: Image, *, key: bool = False) -> Work:
        """The work for ``frame`` (the next in display order); updates the reference as if it was done."""
        work = self._decide(frame, key)
        self.planned += 1
        self.inferred += work.share
        if work.full:
            self.reference, self.since_refresh = frame.copy(), 0
        else:
            self.since_refresh += 1
            reference = self.reference if self.reference is not None else frame.copy()
            for crop in work.crops:
                p = crop.paste
                # The pasted blocks are brought up to date; the rest keep the input they were inferred on.
                reference[p.y : p.y + p.h, p.x : p.x + p.w] = frame[p.y : p.y + p.h, p.x : p.x + p.w]
        return work

    def _decide(self, frame: Image, key: bool) -> Work:
        """Full frame or crops, and why."""
        if self.reference is None or self.reference.shape != frame.shape:
            return Work(True, why="start")
        if key:
            return Work(True, why="keyframe")
        if self.since_refresh + 1 >= max(1, math.ceil(self.refresh_s * self.fps)):
            return Work(True, why="refresh")
        changed = changed_blocks(frame, self.reference, self.thresholds)
        if changed.mean() > CUT_SHARE:
            return Work(True, why="cut")
        h, w = frame.shape[:2]
        found = tuple(crops(changed, self.radius, h, w, BLOCK))
        share = sum(c.window.area for c in found) / (h * w)
        if share > self.fallback_share:
            return Work(True, why="fallback")
        return Work(False, found, share, "regions")
