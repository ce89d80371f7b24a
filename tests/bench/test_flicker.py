"""The flicker metric: motion is compensated, change the motion does not explain is counted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.flicker import flicker, relative_flicker


@pytest.fixture(scope="module")
def panned() -> np.ndarray:
    """Three frames of a smooth textured picture panned 3 px right and 2 px down per frame."""
    rng = np.random.default_rng(4)
    big = cv2.GaussianBlur(rng.integers(0, 256, (160, 200, 3)).astype(np.float32), (0, 0), 2.5)
    big = (255 * (big - big.min()) / (big.max() - big.min())).astype(np.uint8)
    return np.stack([big[10 + 2 * i : 110 + 2 * i, 10 + 3 * i : 150 + 3 * i] for i in range(3)])


def test_pure_motion_is_not_flicker(panned: np.ndarray) -> None:
    still = np.stack([panned[0]] * 3)
    assert flicker(still) < 0.05
    plain_difference = float(np.abs(panned[1].astype(float) - panned[0].astype(float)).mean())
    assert flicker(panned) < 0.25 * plain_difference  # the pan is compensated


def test_temporal_noise_is_flicker_relative_to_a_stable_baseline(panned: np.ndarray) -> None:
    noise = np.random.default_rng(9).normal(0, 6, panned.shape)
    boiling = np.clip(panned + noise, 0, 255).astype(np.uint8)
    assert relative_flicker(boiling, panned, motion_from=panned) > 3.0
    assert relative_flicker(panned, panned, motion_from=panned) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two frames"):
        flicker(panned[:1])
