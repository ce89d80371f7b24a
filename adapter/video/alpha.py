"""Pictures with an alpha channel (ProRes 4444, PNG in MOV) are flattened onto black: video has no alpha."""

from __future__ import annotations

import av
import numpy as np


def has_alpha(frame: av.VideoFrame) -> bool:
    """Whether the frame's pixel format carries an alpha channel."""
    return any(component.is_alpha for component in frame.format.components)


def flatten(rgba: np.ndarray) -> np.ndarray:
    """RGBA (uint8 or uint16, straight alpha) composited onto black: colour × alpha, alpha dropped."""
    top = np.iinfo(rgba.dtype).max
    colour, alpha = rgba[..., :3].astype(np.uint32), rgba[..., 3:].astype(np.uint32)
    return ((colour * alpha + top // 2) // top).astype(rgba.dtype)
