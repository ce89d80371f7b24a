"""Restoration strength: the blend with a Lanczos resize, the degradation estimate and strength=auto."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adapter.restoration.degradation import estimate
from adapter.restoration.strength import blend, lanczos


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 96x128 natural-looking RGB picture: smooth shading, edges and fine texture."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    base = 120 + 60 * np.sin(xx / 9) * np.cos(yy / 13) + 30 * ((xx - 64) ** 2 + (yy - 48) ** 2 < 600)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (96, 128)).astype(np.float32), (0, 0), 0.7)
    gray = np.clip(base + texture, 0, 255)
    return np.stack([gray, gray * 0.9 + 10, gray * 0.7 + 30], axis=-1).astype(np.uint8)


def test_strength_one_is_the_model_and_zero_is_lanczos(photo: np.ndarray) -> None:
    restored = np.full((192, 256, 3), 200, np.uint8)
    assert blend(restored, photo, 1.0) is restored
    assert np.array_equal(blend(restored, photo, 0.0), lanczos(photo, 256, 192))


def test_half_strength_is_the_rounded_mean(photo: np.ndarray) -> None:
    restored = np.random.default_rng(1).integers(0, 256, (192, 256, 3), dtype=np.uint8)
    plain = lanczos(photo, 256, 192).astype(np.float64)
    mixed = blend(restored, photo, 0.25).astype(np.float64)
    assert np.abs(mixed - (0.25 * restored + 0.75 * plain)).max() <= 0.5 + 1e-9


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))


def test_degradation_orders_clean_compressed_and_noisy(photo: np.ndarray) -> None:
    clean = estimate([photo])
    blocky = estimate([jpeg(photo, 8)])
    noisy = estimate(
        [np.clip(photo + np.random.default_rng(2).normal(0, 14, photo.shape), 0, 255).astype(np.uint8)]
    )
    assert blocky.blockiness > clean.blockiness and noisy.noise > clean.noise
    assert clean.strength < blocky.strength and clean.strength < noisy.strength
    assert 0.5 <= clean.strength <= 1.0 and noisy.strength <= 1.0


def test_low_bits_per_pixel_raises_the_strength(photo: np.ndarray) -> None:
    rich, starved = estimate([photo], bits_per_pixel=1.0), estimate([photo], bits_per_pixel=0.02)
    assert rich.starved == 0.0 and starved.starved == 1.0
    assert starved.strength > rich.strength


def test_auto_gives_each_model_its_clean_input_strength(photo: np.ndarray) -> None:
    """Real-CUGAN se keeps full strength on a clean frame, the GAN models half, Real-CUGAN nose a quarter."""
    from adapter.restoration.degradation import clean_strength

    clean = {model: estimate([photo], clean=clean_strength(model)) for model in CLEAN_MODELS}
    assert clean["realcugan-se-x2"].strength == 1.0
    assert clean["realesrgan-x4plus"].strength < 1.0
    assert clean["realcugan-nose-x2"].strength < clean["realesrgan-x4plus"].strength
    blocky = estimate([jpeg(photo, 8)], clean=clean_strength("realcugan-nose-x2"))
    assert blocky.strength > clean["realcugan-nose-x2"].strength


CLEAN_MODELS = ("realcugan-se-x2", "realesrgan-x4plus", "realcugan-nose-x2")


def test_ten_bit_frames_blend_at_sixteen_bits() -> None:
    restored = np.full((8, 8, 3), 40000, np.uint16)
    source = np.full((4, 4, 3), 20000, np.uint16)
    mixed = blend(restored, source, 0.5)  # type: ignore[arg-type]  # the pipeline's deep frames
    assert mixed.dtype == np.uint16 and int(mixed[0, 0, 0]) == 30000
