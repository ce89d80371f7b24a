"""Fitting a later frame size into the first frame's box."""

from __future__ import annotations

import numpy as np
import pytest

from adapter.video.geometry import fitted_size, letterbox


@pytest.mark.parametrize(
    ("size", "box", "fitted"),
    [
        ((96, 72), (64, 48), (64, 48)),  # same aspect: scaled only
        ((96, 24), (64, 48), (64, 16)),  # wider: bars above and below
        ((30, 60), (64, 48), (24, 48)),  # taller: bars left and right
        ((32, 24), (64, 48), (64, 48)),  # smaller: scaled up to fill
        ((1000, 1), (64, 48), (64, 1)),  # never below one pixel
    ],
)
def test_fitted_size_keeps_the_aspect_inside_the_box(
    size: tuple[int, int], box: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert fitted_size(size, box) == fitted


def test_letterbox_centres_on_black() -> None:
    picture = np.full((16, 64, 3), 200, dtype=np.uint8)
    out = letterbox(picture, (64, 48))
    assert out.shape == (48, 64, 3)
    assert out[:16].max() == 0 and out[32:].max() == 0 and (out[16:32] == 200).all()
    assert letterbox(picture, (64, 16)) is picture
