"""The quality bench's clips: photographs and drawn cel animation, panned, shrunk and degraded like UGC.

Each source gives a short reference clip (``FRAMES`` frames of ``REFERENCE`` size, a slow pan or motion).
Its low-quality version is the reference area-shrunk 2x, then degraded at one of ``LEVELS`` (blur, sensor
noise, JPEG, and always a real libx264 encode and decode), as a phone re-upload or an old clip would be.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data

from bench.pipeline import decoded_frames
from tests.fixtures.media import encode_frames

Frames = npt.NDArray[np.uint8]
#: Reference (output) frame width, height: NIQE needs more than 192 px a side.
REFERENCE = (256, 196)
FACTOR = 2
FRAMES = 2
#: Photographs the auto-strength mapping was tuned on, and the ones it is reported on.
TUNE_PHOTOS = ("astronaut", "coffee")
REPORT_PHOTOS = ("chelsea", "rocket")
TUNE_CELS, REPORT_CELS = (1,), (2,)


@dataclass(frozen=True)
class Level:
    """One degradation: blur σ, noise σ (8-bit levels), JPEG quality (0 = none), x264 CRF."""

    name: str
    blur: float
    noise: float
    jpeg: int
    crf: int


LEVELS = (
    Level("light", 0.0, 0.0, 0, 20),
    Level("medium", 0.6, 3.0, 0, 30),
    Level("heavy", 1.0, 6.0, 30, 38),
)


@dataclass(frozen=True)
class Clip:
    """One bench input: its reference, its degraded low-resolution frames and their bits per pixel."""

    source: str
    kind: str  # "photo" | "animation"
    role: str  # "tune" | "report"
    level: str
    reference: Frames
    low: Frames
    bits_per_pixel: float


def photo_reference(name: str) -> Frames:
    """A slow diagonal pan over one of scikit-image's bundled photographs, at the reference size."""
    image = getattr(data, name)()
    h, w = image.shape[:2]
    scale = max((REFERENCE[0] + 8 * FRAMES) / w, (REFERENCE[1] + 4 * FRAMES) / h)
    image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    top = (image.shape[0] - REFERENCE[1]) // 2
    return np.stack(
        [image[top + 2 * i : top + 2 * i + REFERENCE[1], 4 * i : 4 * i + REFERENCE[0]] for i in range(FRAMES)]
    )


def cel_reference(seed: int) -> Frames:
    """Cel-style frames: a gradient sky, flat-coloured shapes with dark outlines, moving a few pixels."""
    rng = np.random.default_rng(seed)
    width, height = REFERENCE
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = rng.integers(90, 200, 3), rng.integers(150, 255, 3)
    sky = (top * (1 - yy) + bottom * yy) * np.ones((1, width, 1), np.float32)
    shapes = [
        (
            rng.integers(20, width - 20),
            rng.integers(20, height - 20),
            rng.integers(12, 40),
            rng.integers(12, 40),
            tuple(int(c) for c in rng.integers(30, 250, 3)),
        )
        for _ in range(6)
    ]
    frames = []
    for index in range(FRAMES):
        frame = np.ascontiguousarray(sky.astype(np.uint8))
        for number, (x, y, rx, ry, colour) in enumerate(shapes):
            centre = (int(x + 3 * index * (1 if number % 2 else -1)), int(y + 2 * index))
            cv2.ellipse(frame, centre, (int(rx), int(ry)), 15.0 * number, 0, 360, colour, -1, cv2.LINE_AA)
            cv2.ellipse(
                frame, centre, (int(rx), int(ry)), 15.0 * number, 0, 360, (20, 16, 24), 2, cv2.LINE_AA
            )
        frames.append(frame)
    return np.stack(frames)


def degrade(reference: Frames, level: Level, seed: int) -> tuple[Frames, float]:
    """Shrink, blur, add noise, JPEG, then a real libx264 encode; the decoded frames and their bits/pixel."""
    rng = np.random.default_rng(seed)
    size = (REFERENCE[0] // FACTOR, REFERENCE[1] // FACTOR)
    low = []
    for frame in reference:
        small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        if level.blur:
            small = cv2.GaussianBlur(small, (0, 0), level.blur)
        small = np.clip(small + rng.normal(0.0, level.noise, small.shape), 0, 255).astype(np.uint8)
        if level.jpeg:
            ok, coded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, level.jpeg])
            small = np.asarray(cv2.imdecode(coded, cv2.IMREAD_UNCHANGED)) if ok else small
        low.append(small)
    with tempfile.TemporaryDirectory() as folder:
        path = encode_frames(Path(folder) / "low.mp4", np.stack(low), rate=25, crf=level.crf)
        bits = 8.0 * path.stat().st_size / (len(low) * size[0] * size[1])
        return decoded_frames(path), bits


def clips() -> list[Clip]:
    """Every bench clip: 4 photographs and 2 cel scenes, each at every level."""
    made = []
    sources = [(name, "photo", "tune", photo_reference(name)) for name in TUNE_PHOTOS]
    sources += [(name, "photo", "report", photo_reference(name)) for name in REPORT_PHOTOS]
    sources += [(f"cel{seed}", "animation", "tune", cel_reference(seed)) for seed in TUNE_CELS]
    sources += [(f"cel{seed}", "animation", "report", cel_reference(seed)) for seed in REPORT_CELS]
    for number, (name, kind, role, reference) in enumerate(sources):
        for level in LEVELS:
            low, bits = degrade(reference, level, seed=number)
            made.append(Clip(name, kind, role, level.name, reference, low, bits))
    return made
