"""A real tritonserver serves the CPU repository over gRPC, matching the in-process ONNX result."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from model_convertation.server import TritonServer, server_argv, server_env
from tests.fixtures.frames import assert_same_frames, psnr

pytestmark = pytest.mark.triton


def infer(url: str, model: str, frames: np.ndarray) -> np.ndarray:
    """One gRPC request."""
    client = grpcclient.InferenceServerClient(url)
    tensor = grpcclient.InferInput("input", list(frames.shape), "UINT8")
    tensor.set_data_from_numpy(frames)
    return client.infer(model, [tensor], outputs=[grpcclient.InferRequestedOutput("output")]).as_numpy(
        "output"
    )


def test_serves_x4_like_in_process_onnx(triton_url: str, onnx_dir: Path, tiny_batch: np.ndarray) -> None:
    out = infer(triton_url, "realesr-animevideov3-x4", tiny_batch)
    assert out.shape == (2, 192, 256, 3) and out.dtype == np.uint8
    session = ort.InferenceSession(
        str(onnx_dir / "realesr-animevideov3-x4.onnx"), providers=["CPUExecutionProvider"]
    )
    expected = session.run(["output"], {"input": tiny_batch})[0]
    # Triton runs OpenVINO in bf16 where the CPU has it; measured ≈ 48-50 dB against fp32 ONNX Runtime.
    assert psnr(out, expected) > 40.0


@pytest.mark.parametrize("model", ["realesr-animevideov3-x4", "realesr-animevideov3-x2"])
def test_real_frame_through_grpc_matches_in_process_onnx(
    triton_url: str, onnx_dir: Path, real_frame: np.ndarray, model: str
) -> None:
    batch = real_frame[None]
    out = infer(triton_url, model, batch)
    session = ort.InferenceSession(str(onnx_dir / f"{model}.onnx"), providers=["CPUExecutionProvider"])
    expected = session.run(["output"], {"input": batch})[0]
    assert out.shape == expected.shape
    # The bound: bf16 (what OpenVINO picks on this CPU) at least 45 dB; fp32 within one level.
    assert psnr(out, expected) >= 45.0


@pytest.mark.parametrize(("model", "scale"), [("realesr-animevideov3-x3", 3), ("realesr-animevideov3-x2", 2)])
def test_x2_x3_output_sizes(triton_url: str, model: str, scale: int, tiny_batch: np.ndarray) -> None:
    assert infer(triton_url, model, tiny_batch[:1]).shape == (1, 48 * scale, 64 * scale, 3)


def test_concurrent_requests_of_mixed_sizes(triton_url: str, tiny_batch: np.ndarray) -> None:
    small = np.ascontiguousarray(tiny_batch[:1, :32, :40])
    jobs = [tiny_batch[:1], small, tiny_batch[1:], small]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda f: infer(triton_url, "realesr-animevideov3-x4", f), jobs))
    for frames, out in zip(jobs, results, strict=True):
        assert out.shape == (1, frames.shape[1] * 4, frames.shape[2] * 4, 3)
    # Triton may batch the two small requests with others: float results agree within one level.
    assert_same_frames(results[1], results[3])


def test_wrong_channel_count_is_refused(triton_url: str) -> None:
    with pytest.raises(InferenceServerException, match=r"(?i)shape|dims"):
        infer(triton_url, "realesr-animevideov3-x4", np.zeros((1, 8, 8, 4), dtype=np.uint8))


def test_server_command_and_environment(triton_server: TritonServer) -> None:
    argv = server_argv(Path("/bin/ts"), Path("/repo"), Path("/b"), 1, 2, 3, ["m"], address="0.0.0.0")
    assert (
        "--model-repository=/repo" in argv and "--load-model=m" in argv and "--grpc-address=0.0.0.0" in argv
    )
    env = server_env(Path("/x/site-packages/pytriton/tritonserver"), base={"PATH": "/usr/bin"})
    assert env["LD_LIBRARY_PATH"].startswith("/x/site-packages/nvidia_pytriton.libs")
    assert "site-packages" in env["PYTHONPATH"]
    assert "openvino-" in triton_server.log_path.read_text()  # the model really runs on OpenVINO


def test_batch_split_over_streams_matches_single_frames(triton_url: str, tiny_batch: np.ndarray) -> None:
    """Three frames are split over the THROUGHPUT streams (2 + 1) and come back in order."""
    frames = np.concatenate([tiny_batch, tiny_batch[:1, ::-1, ::-1].copy()])
    together = infer(triton_url, "realesr-animevideov3-x4", frames)
    alone = [infer(triton_url, "realesr-animevideov3-x4", frames[i : i + 1])[0] for i in range(3)]
    assert together.shape == (3, 192, 256, 3)
    for index in range(3):
        assert psnr(together[index], alone[index]) > 45.0, index
    assert psnr(together[0], alone[1]) < 30.0  # frames are not mixed up


def test_model_runs_with_the_configured_hint(triton_server: TritonServer) -> None:
    assert "-throughputx" in triton_server.log_path.read_text()
