"""A real tritonserver serves a Real-CUGAN repository entry exactly as its committed config.pbtxt says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient

from adapter.inference.upscalers import TritonUpscaler
from model_convertation import catalog
from model_convertation.builder import build_cpu
from model_convertation.repository import ServingOptions
from model_convertation.server import TritonServer, TritonStartError
from tests.fixtures.frames import psnr
from tests.fixtures.services import require
from tests.fixtures.triton import free_port

pytestmark = pytest.mark.triton

#: The x4 model: the only one whose graph is followed by the runtime's nearest-neighbour residual.
MODEL = "realcugan-se-x4-conservative"
COMMITTED = Path(__file__).resolve().parents[2] / "tensorrt_models_running" / MODEL / "config.pbtxt"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TritonServer, Path]]:
    """A private repository with the one model, its ONNX beside it, and a tritonserver on free ports."""
    onnx_dir = tmp_path_factory.mktemp("cugan-onnx")
    repo = tmp_path_factory.mktemp("cugan-repo")
    build_cpu(catalog.select(MODEL), onnx_dir, repo, ServingOptions())
    server = TritonServer(
        repo,
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=free_port(),
        models=[MODEL],
        log_path=tmp_path_factory.mktemp("cugan-log") / "tritonserver.log",
        ready_timeout_s=180,
    )
    try:
        server.start()
    except TritonStartError as exc:
        require(False, f"tritonserver did not start: {exc}")
    yield server, onnx_dir / f"{MODEL}.onnx"
    server.stop()


def test_served_config_is_the_committed_one(served: tuple[TritonServer, Path]) -> None:
    server, _ = served
    config = grpcclient.InferenceServerClient(server.grpc_url).get_model_config(MODEL, as_json=True)["config"]
    committed = COMMITTED.read_text()
    assert f'name: "{config["name"]}"' in committed and config["backend"] == "python"
    assert f"max_batch_size: {config['max_batch_size']}" in committed
    assert [(t["name"], t["data_type"], t["dims"]) for t in config["input"] + config["output"]] == [
        ("input", "TYPE_UINT8", ["-1", "-1", "3"]),
        ("output", "TYPE_UINT8", ["-1", "-1", "3"]),
    ]
    for key, value in config["parameters"].items():
        assert f'{{ key: "{key}" value: {{ string_value: "{value["string_value"]}" }} }}' in committed
    assert config["parameters"]["scale"]["string_value"] == "4"


def test_adapter_accepts_the_contract_and_matches_onnx(served: tuple[TritonServer, Path]) -> None:
    server, onnx_path = served
    upscaler = TritonUpscaler(MODEL, server.grpc_url, timeout_s=60)
    assert upscaler.scale == 4
    rng = np.random.default_rng(5)
    frames = np.clip(rng.normal(128, 40, (2, 24, 40, 3)), 0, 255).astype(np.uint8)
    out = upscaler.infer(frames)
    expected = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(
        ["output"], {"input": frames}
    )[0]
    assert out.shape == expected.shape == (2, 96, 160, 3)
    # OpenVINO may pick bf16 on this CPU; fp32 ONNX Runtime is the reference (Real-ESRGAN: ≥ 40 dB).
    assert psnr(out, expected) > 40.0
