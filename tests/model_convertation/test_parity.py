"""Per-model parity: PyTorch float vs ncnn's CPU runtime (pip `ncnn`), exported ONNX uint8 vs PyTorch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from model_convertation import catalog
from model_convertation.weights import load_upscaler
from tests.fixtures.services import require

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

FLOAT_TOLERANCE = 1e-4  # issue acceptance, on [0, 1] values; measured ≤ 2.7e-5 (docs/models.md)
NCNN_INPUT, NCNN_OUTPUT = "data", "output"  # blob names in every .param of the wheel


@dataclass(frozen=True)
class Case:
    """One model's input frame (RGB HWC uint8) and the PyTorch float output (CHW) on it."""

    name: str
    frame: np.ndarray
    torch_out: np.ndarray


def chw_float(frame: np.ndarray) -> np.ndarray:
    """RGB HWC uint8 → contiguous CHW float32 in [0, 1]."""
    return np.ascontiguousarray(frame.transpose(2, 0, 1).astype(np.float32) / 255.0)


def ncnn_forward(name: str, x: np.ndarray) -> np.ndarray:
    """The wheel's .param/.bin run by ncnn's CPU runtime in fp32, CHW float in → CHW float out."""
    try:
        import ncnn
    except ImportError as exc:
        require(False, f"ncnn not importable (pip install -r requirements-dev.txt): {exc}")
        raise
    folder = catalog.ncnn_models_dir()
    net = ncnn.Net()
    opt = net.opt
    opt.use_vulkan_compute = False
    opt.num_threads = 2
    # fp32 storage and arithmetic, so only the weights' own fp16 rounding (shared with PyTorch) remains.
    opt.use_fp16_storage = opt.use_fp16_packed = opt.use_fp16_arithmetic = False
    opt.use_bf16_storage = False
    opt.use_packing_layout = False
    stem = catalog.MODELS[name].ncnn_stem
    assert net.load_param(str(folder / f"{stem}.param")) == 0
    assert net.load_model(str(folder / f"{stem}.bin")) == 0
    extractor = net.create_extractor()
    assert extractor.input(NCNN_INPUT, ncnn.Mat(x)) == 0
    status, out = extractor.extract(NCNN_OUTPUT)
    assert status == 0
    return np.array(out, dtype=np.float32, copy=True)


def to_uint8(chw: np.ndarray) -> np.ndarray:
    """CHW float [0, 1] → HWC uint8, the same ×255, clamp and round as the exported graph."""
    return np.round(np.clip(chw * 255.0, 0.0, 255.0)).transpose(1, 2, 0).astype(np.uint8)


@pytest.fixture(scope="module", params=list(catalog.MODELS))
def case(request: pytest.FixtureRequest, real_frame: np.ndarray) -> Case:
    """A real decoded frame (a 48x40 crop for the slow RRDB models) and PyTorch's output on it."""
    name: str = request.param
    spec = catalog.MODELS[name]
    frame = real_frame if spec.architecture == "srvgg" else np.ascontiguousarray(real_frame[40:80, 60:108])
    with torch.no_grad():
        torch_out = load_upscaler(spec)(torch.from_numpy(chw_float(frame))[None])[0].numpy()
    return Case(name, frame, torch_out)


def test_torch_matches_ncnn_float(case: Case) -> None:
    expected = ncnn_forward(case.name, chw_float(case.frame))
    scale = catalog.MODELS[case.name].scale
    height, width = case.frame.shape[:2]
    assert expected.shape == case.torch_out.shape == (3, height * scale, width * scale)
    assert expected.std() > 0.05  # a real picture came out, not a constant that any two runtimes agree on
    assert float(np.abs(case.torch_out - expected).max()) <= FLOAT_TOLERANCE


def test_onnx_uint8_matches_torch(case: Case, onnx_dir: Path) -> None:
    session = ort.InferenceSession(str(onnx_dir / f"{case.name}.onnx"), providers=["CPUExecutionProvider"])
    actual = session.run(["output"], {"input": case.frame[None]})[0][0]
    expected = to_uint8(case.torch_out)
    assert actual.shape == expected.shape
    assert int(np.abs(actual.astype(np.int16) - expected.astype(np.int16)).max()) <= 1
