"""Frames for int8 calibration and for the int8 quality gate, made from pictures scikit-image ships.

Three kinds, as uploads come: photographs, animation-like frames (flat colour regions with dark outlines,
made from a photograph by SLIC superpixels) and compressed frames (JPEG at quality 25: the 8×8 block
artefacts of low-bitrate video). Calibration and the gate use different pictures (the gate's are held out).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

#: Pictures the quantizer sees; the gate never sees them.
CALIBRATION_PICTURES = ("astronaut", "coffee", "hubble_deep_field")
#: Held-out pictures for the gate.
GATE_PICTURES = ("rocket", "chelsea", "immunohistochemistry")
#: Pictures quantization-aware fine-tuning learns from (model_convertation/qat.py): the calibration ones and
#: more that the wheel ships (grey ones as grey RGB); never the gate's.
TRAINING_PICTURES = (
    *CALIBRATION_PICTURES,
    *(
        "retina",
        "colorwheel",
        "logo",
        "coins",
        "camera",
        "page",
        "moon",
        "text",
        "brick",
        "grass",
        "clock",
        "cell",
    ),
)
KINDS = ("photo", "animation", "compressed")
#: The gate's fourth kind, made here: saturated synthetic graphics (bars, a hue ramp, hard black and white
#: edges) as overlays, games, slides and test patterns have. Their colours leave the ranges calibrated on
#: photographs; an int8 graph that clips them (2.5 dB on testsrc2 on an AVX-512 VNNI host) must fail.
GRAPHICS = "graphics"
#: Calibration frames are small: activations' ranges do not depend on the frame size, CPU time does.
CALIBRATION_SIZE = (96, 72)
#: The gate's reference (high-resolution) size; the model gets it shrunk by its scale.
GATE_SIZE = (192, 144)
JPEG_QUALITY = 25


@dataclass(frozen=True)
class GateFrame:
    """One held-out case: the model's input and the picture it should come close to."""

    name: str
    kind: str
    low: Image  # [h, w, 3] input
    high: Image  # [scale·h, scale·w, 3] reference


def picture(name: str) -> Image:
    """A colour picture from skimage.data (shipped with the wheel, no download)."""
    from skimage import data

    image = np.asarray(getattr(data, name)())
    if image.ndim == 2:  # grey
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def resize(image: Image, width: int, height: int) -> Image:
    """Area-averaged (anti-aliased) resize, the way a video gets scaled down."""
    from PIL import Image as Pil

    return np.asarray(Pil.fromarray(image).resize((width, height), Pil.Resampling.BOX))


def centre_crop(image: Image, aspect: float) -> Image:
    """The largest centred crop with width/height == aspect."""
    h, w = image.shape[:2]
    if w / h > aspect:
        cw = round(h * aspect)
        return image[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    ch = round(w / aspect)
    return image[(h - ch) // 2 : (h - ch) // 2 + ch]


def animation(image: Image) -> Image:
    """A cel-like version: SLIC superpixels filled with their mean colour, boundaries drawn dark."""
    from skimage.color import label2rgb
    from skimage.segmentation import find_boundaries, slic

    labels = slic(image, n_segments=120, compactness=20, start_label=1)
    flat = label2rgb(labels, image, kind="avg", bg_label=0).astype(np.uint8)
    flat[find_boundaries(labels, mode="inner")] = 24
    return flat


def compressed(image: Image, quality: int = JPEG_QUALITY) -> Image:
    """The picture after a lossy DCT codec (JPEG at ``quality``)."""
    from PIL import Image as Pil

    buffer = io.BytesIO()
    Pil.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Pil.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def calibration_frames(size: tuple[int, int] = CALIBRATION_SIZE) -> list[Image]:
    """One [1, h, w, 3] batch per picture and kind (9 in all)."""
    width, height = size
    frames = []
    for name in CALIBRATION_PICTURES:
        small = resize(centre_crop(picture(name), width / height), width, height)
        for kind in KINDS:
            frame = (
                animation(small)
                if kind == "animation"
                else compressed(small)
                if kind == "compressed"
                else small
            )
            frames.append(frame[None])
    return frames


def gate_frames(scale: int, size: tuple[int, int] = GATE_SIZE) -> list[GateFrame]:
    """Held-out cases: reference at ``size``, input shrunk by ``scale`` (and JPEG-coded for compressed)."""
    width, height = size
    cases = []
    for name in GATE_PICTURES:
        high = resize(centre_crop(picture(name), width / height), width, height)
        for kind in KINDS:
            reference = animation(high) if kind == "animation" else high
            low = resize(reference, width // scale, height // scale)
            if kind == "compressed":
                low = compressed(low)
            cases.append(GateFrame(name, kind, low, reference))
    high = graphics(width, height)
    cases.append(GateFrame(GRAPHICS, GRAPHICS, resize(high, width // scale, height // scale), high))
    return cases


def graphics(width: int, height: int) -> Image:
    """Saturated synthetic graphics: full colour bars over a hue ramp, with a black and a white box."""
    bars = np.array(
        [[255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0], [255, 0, 255], [255, 0, 0], [0, 0, 255]],
        np.float64,
    )
    image = np.zeros((height, width, 3), np.float64)
    top = height * 2 // 3
    image[:top] = bars[(np.arange(width) * len(bars) // width)][None]
    hue = np.linspace(0.0, 6.0, width, endpoint=False)
    ramp = np.stack([np.clip(np.abs(hue - 3) - 1, 0, 1), np.clip(2 - np.abs(hue - 2), 0, 1),
                     np.clip(2 - np.abs(hue - 4), 0, 1)], axis=1) * 255  # fmt: skip
    image[top:] = ramp[None]
    box = max(2, height // 8)
    image[top + box : top + 2 * box, width // 8 : width // 8 + box] = 0
    image[top + box : top + 2 * box, width // 4 : width // 4 + box] = 255
    return np.round(image).astype(np.uint8)


def gradients(width: int = 64, height: int = 48) -> dict[str, Image]:
    """Flat, slow gradient pictures (≈ 0.6 levels per pixel), where banding would show as new steps."""
    ramp = np.linspace(100.0, 140.0, width)[None, :].repeat(height, 0)
    ramp_v = np.linspace(90.0, 130.0, height)[:, None].repeat(width, 1)
    grey = np.repeat(ramp[..., None], 3, axis=2)
    sky = np.stack([ramp_v * 0.6, ramp_v * 0.8 + 20, ramp_v + 60], axis=2)
    return {
        "horizontal-grey": np.round(grey).astype(np.uint8),
        "vertical-sky": np.round(np.clip(sky, 0, 255)).astype(np.uint8),
    }


def kinds(small: Image) -> list[Image]:
    """The picture as each kind: photo, animation, compressed."""
    return [small, animation(small), compressed(small)]


def training_pictures(side: int = 128) -> list[Image]:
    """Every training picture, its shorter side brought to about ``side`` pixels, in the three kinds."""
    found = []
    for name in TRAINING_PICTURES:
        image = picture(name)
        h, w = image.shape[:2]
        factor = max(1.0, min(h, w) / side)
        found += kinds(resize(image, round(w / factor), round(h / factor)))
    return found


def synthetic(rng: np.random.Generator, side: int) -> Image:
    """A random square of saturated flat shapes (JPEG-coded half the time) or a smooth ramp at any angle."""
    if rng.random() < 0.5:
        y, x = np.mgrid[0:side, 0:side] / side
        angle = rng.uniform(0, 2 * np.pi)
        along = np.cos(angle) * x + np.sin(angle) * y
        base, slope = rng.uniform(20, 235, 3), rng.uniform(-50, 50, 3) * rng.choice([0.3, 1.0, 1.5])
        return np.round(np.clip(base + slope * along[..., None], 0, 255)).astype(np.uint8)
    flat = shapes(rng, side)
    return compressed(flat, int(rng.integers(20, 60))) if rng.random() < 0.5 else flat


def shapes(rng: np.random.Generator, side: int) -> Image:
    """A square of 2–5 saturated flat rectangles on a black, white or primary background."""
    image = np.zeros((side, side, 3)) + rng.choice([0, 255], 3)
    for _ in range(int(rng.integers(2, 6))):
        y0, x0 = rng.integers(0, side, 2)
        y1, x1 = y0 + rng.integers(3, side), x0 + rng.integers(3, side)
        image[y0:y1, x0:x1] = rng.choice([0, 64, 128, 192, 255], 3)
    return image.astype(np.uint8)


def ramp(rng: np.random.Generator, height: int, width: int, axis: int) -> Image:
    """An 8-bit ramp of a random colour and slope (0.1–1.2 levels a pixel) along columns (1) or rows (0)."""
    length = width if axis == 1 else height
    base = rng.uniform(30, 220, 3)
    slope = rng.uniform(0.2, 1.2) * rng.choice([-1, 1]) * rng.uniform(0.5, 1.0, 3)
    line = np.round(np.clip(base + slope * np.arange(length)[:, None], 0, 255)).astype(np.uint8)
    if axis == 1:
        return np.ascontiguousarray(np.broadcast_to(line[None], (height, width, 3)))
    return np.ascontiguousarray(np.broadcast_to(line[:, None], (height, width, 3)))


def validation_ramps(count: int, seed: int) -> list[tuple[Image, int]]:
    """(ramp, axis) pairs at the gate's gradient size, random colours and slopes: for choosing among
    fine-tuning checkpoints without looking at the gate's own gradients."""
    rng = np.random.default_rng(seed)
    width, height = 64, 48
    return [(ramp(rng, height, width, axis), axis) for axis in (1, 0) * (count // 2)]


def validation_graphics(count: int, scale: int, seed: int, side: int = 192) -> list[GateFrame]:
    """Saturated shapes as video brings them: shrunk by ``scale`` and JPEG-coded (not the gate's graphics)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        high = shapes(rng, side)
        low = compressed(resize(high, side // scale, side // scale), int(rng.integers(25, 60)))
        cases.append(GateFrame("shapes", GRAPHICS, low, high))
    return cases
