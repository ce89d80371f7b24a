"""ONNX export: contract, equality with PyTorch, output sizes, idempotent rebuilds, CPU repository files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from model_convertation import catalog, repository
from model_convertation.export import OPSET, Uint8Graph, export_onnx
from model_convertation.weights import load_upscaler


def run_onnx(path: Path, frames: np.ndarray) -> np.ndarray:
    """ONNX Runtime CPU result."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": frames})[0]


def test_onnx_contract(onnx_dir: Path) -> None:
    model = onnx.load(str(onnx_dir / "realesr-animevideov3-x4.onnx"), load_external_data=False)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ("input", "output")
    for value in (graph_input, graph_output):
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.UINT8
        dims = tensor.shape.dim
        assert [d.dim_param != "" for d in dims] == [True, True, True, False] and dims[3].dim_value == 3
    assert {entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")} == {OPSET}


@pytest.mark.parametrize("name", ["realesr-animevideov3-x4", "realesr-animevideov3-x2"])
def test_onnx_equals_torch(name: str, onnx_dir: Path, tiny_batch: np.ndarray) -> None:
    with torch.no_grad():
        expected = Uint8Graph(load_upscaler(catalog.MODELS[name]))(torch.from_numpy(tiny_batch)).numpy()
    actual = run_onnx(onnx_dir / f"{name}.onnx", tiny_batch)
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    assert actual.shape == expected.shape
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # float rounding ties only


@pytest.mark.parametrize("name", list(catalog.MODELS))
def test_output_size_is_scale_times_input(name: str, onnx_dir: Path) -> None:
    if name.startswith("realesrgan-x4plus"):
        frames = np.full(
            (1, 12, 20, 3), 128, dtype=np.uint8
        )  # the RRDB models are slow; shape is what matters
    else:
        frames = np.full((3, 48, 64, 3), 128, dtype=np.uint8)
    scale = catalog.MODELS[name].scale
    out = run_onnx(onnx_dir / f"{name}.onnx", frames)
    assert out.dtype == np.uint8
    assert out.shape == (frames.shape[0], frames.shape[1] * scale, frames.shape[2] * scale, 3)


def test_rebuild_is_skipped_when_up_to_date(tmp_path: Path) -> None:
    spec = catalog.MODELS["realesr-animevideov3-x2"]
    first = export_onnx(spec, tmp_path)
    mtime = first.path.stat().st_mtime_ns
    assert first.built
    second = export_onnx(spec, tmp_path)
    assert not second.built and second.path.stat().st_mtime_ns == mtime
    first.path.with_name(first.path.name + ".stamp.json").write_text('{"fingerprint": "stale"}')
    assert export_onnx(spec, tmp_path).built


def test_cpu_repository_files(onnx_dir: Path, tmp_path: Path) -> None:
    spec = catalog.MODELS["realesr-animevideov3-x4"]
    options = repository.ServingOptions(max_batch_size=4, instances=2)
    onnx_path = onnx_dir / f"{spec.name}.onnx"
    assert repository.write_cpu_model(spec, onnx_path, tmp_path, options)
    assert not repository.write_cpu_model(spec, onnx_path, tmp_path, options)
    config = (tmp_path / spec.name / "config.pbtxt").read_text()
    for line in [
        'backend: "python"',
        "max_batch_size: 4",
        "count: 2 kind: KIND_CPU",
        "dims: [ -1, -1, 3 ]",
        "TYPE_UINT8",
        "dynamic_batching",
    ]:
        assert line in config
    assert (tmp_path / spec.name / "1" / "model.onnx").read_bytes() == onnx_path.read_bytes()
    assert "TritonPythonModel" in (tmp_path / spec.name / "1" / "model.py").read_text()


def test_committed_configs_match_generator() -> None:
    """The committed tensorrt_models_running/<model>/config.pbtxt (CPU contract) is what build writes."""
    root = Path(__file__).resolve().parents[2] / "tensorrt_models_running"
    for spec in catalog.SERVED.values():
        committed = root / spec.name / "config.pbtxt"
        assert committed.read_text() == repository.cpu_config(spec, repository.ServingOptions()), spec.name
