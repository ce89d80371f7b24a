"""Four 640×360 clips for bench/regions.py, made from scikit-image's photographs.

Each is rendered losslessly here, then encoded with libx264 at CRF 23 and decoded, so its still parts
carry real codec noise: a lecture (a still photo, a small moving inset), a talking head (a still
background, a cut-out that moves, scales and turns), a screen recording (text appearing line by line,
a moving cursor) and a handheld pan (everything moves, with a shake).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from tests.fixtures.media import encode_frames

WIDTH, HEIGHT = 640, 360
CRF = 23
Frames = np.ndarray


def _photo(image: np.ndarray, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """The photo scaled to cover width×height, centre-cropped."""
    h, w = image.shape[:2]
    k = max(width / w, height / h)
    big = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    top, left = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return np.ascontiguousarray(big[top : top + height, left : left + width, :3])


def lecture(frames: int) -> Frames:
    """A still photo; a 96×72 inset (another photo) drifts across a corner."""
    back, inset = _photo(data.coffee()), _photo(data.chelsea(), 96, 72)
    out = []
    for i in range(frames):
        frame = back.copy()
        x, y = 500 - 6 * i, 260 + round(4 * np.sin(i / 2))
        frame[y : y + 72, x : x + 96] = inset
        out.append(frame)
    return np.stack(out)


def talking_head(frames: int) -> Frames:
    """A still wall; a round cut-out moves, grows and turns a little each frame."""
    back, face = _photo(data.astronaut()[::-1].copy()), _photo(data.chelsea(), 140, 140)
    ys, xs = np.mgrid[0:140, 0:140]
    mask = (((ys - 70) ** 2 + (xs - 70) ** 2 <= 66**2) * 255).astype(np.uint8)
    out = []
    for i in range(frames):
        angle, zoom = 4.0 * np.sin(i / 3), 1.0 + 0.03 * np.sin(i / 4)
        turn = np.asarray(cv2.getRotationMatrix2D((70, 70), angle, zoom), np.float64)
        turn[:, 2] += np.array([250 + 3 * i, 120 + round(5 * np.sin(i / 2))], np.float64)
        size = (WIDTH, HEIGHT)
        moved = cv2.warpAffine(face, turn, size, flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(mask, turn, size, flags=cv2.INTER_LINEAR)[..., None] / 255.0
        out.append((back * (1 - alpha) + moved * alpha).round().astype(np.uint8))
    return np.stack(out)


def _cursor(frame: np.ndarray, x: int, y: int) -> None:
    """Draw an arrow pointer at (x, y)."""
    arrow = np.array([[0, 0], [0, 17], [4, 13], [8, 21], [11, 20], [7, 12], [12, 12]]) + np.array([x, y])
    cv2.fillPoly(frame, [arrow], (255, 255, 255))
    cv2.polylines(frame, [arrow], True, (0, 0, 0), 1)


def screen(frames: int) -> Frames:
    """A desktop: a photo wallpaper with an editor window whose lines appear one by one; a cursor moves."""
    back = _photo(data.rocket())
    back[40:330, 60:580] = (250, 250, 246)
    back[40:62, 60:580] = (60, 70, 90)
    words = [
        "def upscale(frame):",
        "    changed = blocks(frame)",
        "    boxes = merge(changed)",
        "    return paste(boxes)",
    ]
    out = []
    for i in range(frames):
        frame = back.copy()
        for line, text in enumerate(words[: 1 + i // 2]):
            cv2.putText(frame, text, (76, 96 + 34 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (30, 30, 30), 2)
        _cursor(frame, 420 + 9 * i, 250 - 7 * i)
        out.append(frame)
    return np.stack(out)


def pan(frames: int) -> Frames:
    """A handheld pan over a large photo: 7 px a frame and a few pixels of shake."""
    big = _photo(data.astronaut(), 960, 540)
    rng = np.random.default_rng(3)
    out = []
    for i in range(frames):
        x, y = 40 + 7 * i + int(rng.integers(-3, 4)), 60 + int(rng.integers(-3, 4))
        out.append(np.ascontiguousarray(big[y : y + HEIGHT, x : x + WIDTH]))
    return np.stack(out)


CLIPS: dict[str, Callable[[int], Frames]] = {
    "lecture": lecture,
    "talking head": talking_head,
    "screen recording": screen,
    "handheld pan": pan,
}


def encoded(name: str, frames: int, folder: Path, rate: int) -> Path:
    """The clip encoded with libx264 at CRF 23 (x264's default keyframe spacing)."""
    path = folder / f"{name.replace(' ', '_')}.mp4"
    return encode_frames(path, CLIPS[name](frames), rate=rate, crf=CRF)
