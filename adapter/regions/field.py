"""The models' receptive fields, measured from the networks with their real weights (``measure``).

A field is the radius, in input pixels, beyond which changing the input moves no output value by 0.5 of
an 8-bit level or more (f32, before rounding). Region inference dilates changed blocks by it and gives
every rectangle that much image context, so a pasted pixel saw what it would have seen in the full frame.
``FIELDS`` records the figures ``python -m adapter.regions.field`` printed (docs/pipeline.md).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from torch import nn

#: Measured radius (input pixels) per model; ``None``: global context (regions are never used).
FIELDS: dict[str, int | None] = {
    "realesr-animevideov3-x4": 16,
    "realesr-animevideov3-x3": 15,
    "realesr-animevideov3-x2": 15,
    # Content decides how far the 23 RRDB blocks carry a change: 53, 75 and 82 px on three photographs.
    "realesrgan-x4plus": 82,
    "realesrgan-x4plus-anime": 45,
}
#: Output change (8-bit levels, before rounding) below which an input change counts as not reaching.
LSB_LIMIT = 0.5


def field_of(model: str) -> int | None:
    """The recorded radius of ``model``; None when unknown (regions off for it)."""
    return FIELDS.get(model)


def tile_overlap(model: str, tile: int, least: int = 16) -> int:
    """Overlap of a tiled model's tiles: its measured field (a tile's kept centre then equals the whole
    frame's answer), at least ``least``, and less than half the tile."""
    return min(max(least, field_of(model) or least), (tile - 1) // 2)


def reach(network: nn.Module, scale: int, image: npt.NDArray[np.uint8], block: int = 16) -> int:
    """Farthest input distance from a changed centre block at which an output moves by ≥ LSB_LIMIT."""
    import torch

    h, w = image.shape[:2]
    y0, x0 = (h - block) // 2, (w - block) // 2
    changed = image.copy()
    # The block's content replaced by its photographic negative: the largest change a block can make.
    changed[y0 : y0 + block, x0 : x0 + block] = 255 - changed[y0 : y0 + block, x0 : x0 + block]
    batch = torch.from_numpy(np.stack([image, changed])).permute(0, 3, 1, 2).float() / 255.0
    with torch.inference_mode():
        out = network(batch).float() * 255.0
    moved = (out[0] - out[1]).abs().amax(dim=0).numpy() >= LSB_LIMIT
    ys, xs = np.nonzero(moved)
    if ys.size == 0:
        return 0
    # Output pixel y covers input [y/scale, (y+1)/scale); distance to the block in input pixels.
    dy = np.maximum(np.maximum(y0 * scale - ys - 1, ys - (y0 + block) * scale), 0) / scale
    dx = np.maximum(np.maximum(x0 * scale - xs - 1, xs - (x0 + block) * scale), 0) / scale
    return int(np.ceil(max(float(dy.max()), float(dx.max()))))


def measure(model: str, size: int = 112, images: int = 3) -> int:
    """The radius of ``model`` over a few real photographs (scikit-image's), f32 PyTorch, real weights."""
    from skimage import data

    from model_convertation import weights
    from model_convertation.catalog import MODELS

    spec = MODELS[model]
    network = weights.load_upscaler(spec).float()
    photos = (data.astronaut(), data.coffee(), data.chelsea())[:images]
    radii = []
    for photo in photos:
        h, w = photo.shape[:2]
        side = min(size, h - h % 16, w - w % 16)  # chelsea is 300 px tall
        top, left = (h - side) // 2, (w - side) // 2
        crop = np.ascontiguousarray(photo[top : top + side, left : left + side])
        radii.append(reach(network, spec.scale, crop))
    return max(radii)


def main(argv: list[str]) -> None:
    """Print each named model's measured radius (all models when none is named)."""
    for model in argv or list(FIELDS):
        # The crop must leave room beyond the field on every side (x4plus reaches past 80 px).
        size = 112 if "animevideo" in model else 336
        print(f"{model}: {measure(model, size)} px (recorded {FIELDS.get(model)})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
