"""Temporal stability: the motion-compensated difference between consecutive frames (OpenCV optical flow).

For each pair of consecutive frames, dense Farnebäck flow is computed on the *reference* frames when given
(else on the frames themselves), the earlier frame is warped onto the later one, and the mean absolute luma
difference is taken inside a border margin. What remains after motion compensation is change the motion
does not explain: flicker, boiling texture, crawling edges. ``relative_flicker`` divides a method's value
by a baseline's (bicubic in bench/quality.py) on the same frames: 1.0 = as stable as bicubic.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

Frames = npt.NDArray[np.uint8]  # [N, H, W, 3] RGB
MARGIN = 8  # pixels ignored at the border, where warped pixels come from outside the frame


def _gray(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))


def flow(earlier: npt.NDArray[np.uint8], later: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Dense flow that maps each pixel of ``later`` to where it was in ``earlier`` (Farnebäck)."""
    empty = np.zeros((*later.shape[:2], 2), np.float32)
    result = cv2.calcOpticalFlowFarneback(_gray(later), _gray(earlier), empty, 0.5, 3, 15, 3, 5, 1.2, 0)
    return np.asarray(result, dtype=np.float32)


def warp(frame: npt.NDArray[np.uint8], motion: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """``frame`` moved along ``motion`` (per-pixel source offsets), bilinear."""
    h, w = motion.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.asarray(
        cv2.remap(
            frame,
            np.asarray(grid_x + motion[..., 0], np.float32),
            np.asarray(grid_y + motion[..., 1], np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    )


def motions(guide: Frames, size: tuple[int, int] | None = None) -> list[npt.NDArray[np.float32]]:
    """The flow of every consecutive pair of ``guide`` (resized to ``size`` = (width, height) first)."""
    if size is not None:
        guide = np.stack([_resized(frame, size) for frame in guide])
    return [flow(guide[index - 1], guide[index]) for index in range(1, len(guide))]


def flicker(
    frames: Frames, motion_from: Frames | None = None, flows: list[npt.NDArray[np.float32]] | None = None
) -> float:
    """Mean motion-compensated absolute luma difference of consecutive frames (8-bit levels)."""
    if len(frames) < 2:
        raise ValueError("flicker needs at least two frames")
    size = (frames.shape[2], frames.shape[1])
    flows = flows if flows is not None else motions(frames if motion_from is None else motion_from, size)
    values = []
    for index, motion in enumerate(flows, start=1):
        moved = warp(frames[index - 1], motion)
        diff = np.abs(_gray(moved).astype(np.float32) - _gray(frames[index]).astype(np.float32))
        values.append(float(diff[MARGIN:-MARGIN, MARGIN:-MARGIN].mean()))
    return float(np.mean(values))


def _resized(frame: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """``frame`` at ``size`` (a reference may be another size than the output)."""
    w, h = size
    if frame.shape[:2] == (h, w):
        return frame
    return np.asarray(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))


def relative_flicker(frames: Frames, baseline: Frames, motion_from: Frames | None = None) -> float:
    """``flicker(frames)`` over ``flicker(baseline)``, both compensated with the same motion."""
    flows = motions(frames if motion_from is None else motion_from, (frames.shape[2], frames.shape[1]))
    return flicker(frames, flows=flows) / max(1e-6, flicker(baseline, flows=flows))
