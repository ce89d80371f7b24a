"""How degraded an input frame looks: blockiness, noise, softness and bits per pixel, in one cheap score."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

#: Immerkær's noise-estimation kernel: zero response to planes and ramps, so it sees noise, not content.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
#: Where each signal starts to count and where it is full, tuned on the bench's tuning clips (bench/clips.py:
#: astronaut, coffee, cel1; docs/benchmarks.md). The noise knee is high because texture of a sharp, clean
#: frame reads as noise to Immerkær's estimate, while x264 removes real noise at low rates.
BLOCK_KNEE, BLOCK_FULL = 1.12, 1.35
SOFT_KNEE, SOFT_FULL = 0.05, 0.45
NOISE_KNEE, NOISE_FULL = 5.0, 12.0
BPP_KNEE = 0.10
#: strength = CLEAN + (1 − CLEAN) × degradation; CLEAN is what a clean input gets: per model, the largest
#: bench strength that kept PSNR ≥ 0.3 dB above encoded bicubic on both clean tuning photos (benchmarks.md).
#: GAN models that invent texture get less, Real-CUGAN se/pro (faithful on clean input) all of it.
LOW_STRENGTH = 0.5
CLEAN_STRENGTH: dict[str, float] = {
    "realcugan-nose-x2": 0.25,
    "realcugan-pro-x2": 0.75,
    "realcugan-pro-x3": 1.0,
    "realcugan-se-x2": 1.0,
    "realcugan-se-x3": 1.0,
    "realcugan-se-x4": 1.0,
}


def clean_strength(model: str) -> float:
    """The strength ``auto`` gives ``model`` on a clean input."""
    return CLEAN_STRENGTH.get(model, LOW_STRENGTH)


@dataclass(frozen=True)
class Degradation:
    """The signals (each 0 = clean … 1 = bad) and their combination."""

    blockiness: float
    noise: float
    softness: float
    starved: float  # low bits per pixel; 0 when the bitrate is unknown
    clean: float = LOW_STRENGTH  # the model's strength for a clean input (clean_strength)

    @property
    def score(self) -> float:
        """The worst signal dominates: one strong artefact is enough to need restoration."""
        signals = sorted((self.blockiness, self.noise, self.softness, self.starved), reverse=True)
        return float(np.clip(0.7 * signals[0] + 0.3 * signals[1], 0.0, 1.0))

    @property
    def strength(self) -> float:
        """The restoration strength for this input and model, rounded to 0.05."""
        return round(round((self.clean + (1.0 - self.clean) * self.score) * 20) / 20, 2)


def _ramp(value: float, knee: float, full: float) -> float:
    """0 up to ``knee``, rising linearly to 1 at ``full``."""
    return float(np.clip((value - knee) / (full - knee), 0.0, 1.0))


def blockiness(gray: npt.NDArray[np.float32]) -> float:
    """Mean step across 8-pixel block edges over the mean step elsewhere (1 = no block grid)."""
    dx = np.abs(np.diff(gray, axis=1))
    dy = np.abs(np.diff(gray, axis=0))
    edge_x, edge_y = dx[:, 7::8].mean(), dy[7::8, :].mean()
    inner_x = (dx.sum() - dx[:, 7::8].sum()) / max(1, dx.size - dx[:, 7::8].size)
    inner_y = (dy.sum() - dy[7::8, :].sum()) / max(1, dy.size - dy[7::8, :].size)
    return float((edge_x + edge_y) / max(1e-3, inner_x + inner_y))


def noise_sigma(gray: npt.NDArray[np.float32]) -> float:
    """Immerkær's fast noise standard deviation (8-bit units)."""
    response = cv2.filter2D(gray, cv2.CV_32F, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6.0)


def softness(gray: npt.NDArray[np.float32]) -> float:
    """1 − (high-frequency energy share): a blurred or upscaled-before frame has little above half-band."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 1.0)
    high = float(np.abs(gray - blurred).mean())
    total = float(np.abs(gray - gray.mean()).mean()) + 1e-3
    return float(np.clip(1.0 - 8.0 * high / total, 0.0, 1.0))


def _gray(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Luma on the 8-bit scale the knees are set on (10-bit and HDR sources arrive as uint16)."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return gray / 257.0 if frame.dtype == np.uint16 else gray


def estimate(
    frames: list[npt.NDArray[np.uint8]], bits_per_pixel: float | None = None, clean: float = LOW_STRENGTH
) -> Degradation:
    """The degradation of a few RGB frames of one input (their median per signal), for a model's ``clean``."""
    grays = [_gray(frame) for frame in frames]
    block = float(np.median([blockiness(g) for g in grays]))
    noise = float(np.median([noise_sigma(g) for g in grays]))
    soft = float(np.median([softness(g) for g in grays]))
    starved = 0.0 if bits_per_pixel is None else _ramp(-bits_per_pixel, -BPP_KNEE, -0.02)
    return Degradation(
        blockiness=_ramp(block, BLOCK_KNEE, BLOCK_FULL),
        noise=_ramp(noise, NOISE_KNEE, NOISE_FULL),
        softness=_ramp(soft, SOFT_KNEE, SOFT_FULL),
        starved=starved,
        clean=clean,
    )
