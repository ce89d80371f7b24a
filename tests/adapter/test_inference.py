"""Upscalers: the real model in-process, tiling without seams, and the Triton model-contract check."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from adapter.errors import InferenceUnavailableError, ModelContractError
from adapter.inference.base import Upscaler
from adapter.inference.upscalers import LocalUpscaler, TiledUpscaler, TritonUpscaler, make_upscaler
from tests.fixtures.frames import assert_same_frames
from tests.fixtures.media import make_clip


def _frames(tmp_path: Path, count: int = 2, size: str = "176x144") -> np.ndarray:
    """Real decoded testsrc2 frames (smooth shapes and text, like video content)."""
    from adapter.video.decode import Decoder

    decoder = Decoder(make_clip(tmp_path / "src.mp4", size=size, audio_tracks=0))
    try:
        return np.stack([rgb for rgb, _ in list(decoder.frames())[:count]])
    finally:
        decoder.close()


def test_local_model_upscales_four_times_and_looks_like_the_input(upscaler: Upscaler, tmp_path: Path) -> None:
    frames = _frames(tmp_path)
    out = upscaler.infer(frames)
    assert out.dtype == np.uint8 and out.shape == (2, 576, 704, 3)
    # Shrunk back, the model output is close to its input (it sharpens, it does not invent).
    back = cv2.resize(out[0], (176, 144), interpolation=cv2.INTER_AREA)
    assert np.abs(back.astype(int) - frames[0].astype(int)).mean() < 6


def test_requests_in_flight_match_one_at_a_time(upscaler: Upscaler, tmp_path: Path) -> None:
    frames = _frames(tmp_path, 4)
    alone = [upscaler.infer(frames[i : i + 2]) for i in (0, 2)]
    if (os.cpu_count() or 1) >= 2:
        assert upscaler.in_flight >= 2  # one OpenVINO stream per core, each with its own request
    with ThreadPoolExecutor(max_workers=max(2, upscaler.in_flight)) as pool:
        together = list(pool.map(upscaler.infer, [frames[0:2], frames[2:4]] * 2))
    for got, want in zip(together, alone * 2, strict=True):
        assert_same_frames(got, want)


def test_openvino_and_onnxruntime_agree(models_dir: Path, tmp_path: Path) -> None:
    frames = _frames(tmp_path, 1, "64x48")
    openvino = LocalUpscaler("realesr-animevideov3-x4", models_dir, runtime="openvino")
    onnxruntime = LocalUpscaler("realesr-animevideov3-x4", models_dir, runtime="onnxruntime")
    assert (openvino.runtime, onnxruntime.runtime) == ("openvino", "onnxruntime")
    difference = np.abs(openvino.infer(frames).astype(int) - onnxruntime.infer(frames).astype(int))
    assert difference.mean() < 1.5  # bf16 vs fp32


def test_tiles_leave_no_seams(upscaler: Upscaler, tmp_path: Path) -> None:
    frames = _frames(tmp_path, 1)
    whole = upscaler.infer(frames)
    tiled = TiledUpscaler(upscaler, tile=80, overlap=16).infer(frames)
    assert tiled.shape == whole.shape
    difference = np.abs(tiled.astype(int) - whole.astype(int))[0]
    # Inside the frame (tile borders included) the result is the same to ±1; only the frame's own edge
    # differs, because tiles are padded by reflection where the whole frame is zero-padded by each layer.
    assert difference[64:-64, 64:-64].max() <= 1
    assert difference.mean() < 1.0


def test_missing_model_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(InferenceUnavailableError, match="missing"):
        make_upscaler("realesr-animevideov3-x4", None, tmp_path)


class _FakeClient:
    """Stands in for tritonclient's gRPC client in the contract-check unit tests only."""

    def __init__(self, metadata: dict[str, Any], config: dict[str, Any], ready: bool = True) -> None:
        self.metadata, self.config, self.ready = metadata, config, ready

    def is_model_ready(self, model: str, client_timeout: float) -> bool:
        return self.ready

    def get_model_metadata(self, model: str, as_json: bool, client_timeout: float) -> dict[str, Any]:
        return self.metadata

    def get_model_config(self, model: str, as_json: bool, client_timeout: float) -> dict[str, Any]:
        return {"config": self.config}


GOOD_META = {
    "inputs": [{"name": "input", "datatype": "UINT8", "shape": ["-1", "-1", "-1", "3"]}],
    "outputs": [{"name": "output", "datatype": "UINT8", "shape": ["-1", "-1", "-1", "3"]}],
}


def _check(metadata: dict[str, Any], config: dict[str, Any], ready: bool = True) -> int:
    triton = TritonUpscaler.__new__(TritonUpscaler)
    triton.model, triton._timeout = "realesr-animevideov3-x4", 1
    triton._client = _FakeClient(metadata, config, ready)
    return triton._check_contract()


def test_contract_check_accepts_the_contract() -> None:
    assert _check(GOOD_META, {"max_batch_size": 8}) == 8


@pytest.mark.parametrize(
    ("groups", "device"),
    [
        ([{"count": 1, "kind": "KIND_CPU"}], "cpu"),
        ([{"count": 2, "kind": "KIND_GPU", "gpus": [0]}], "gpu"),
        ([{"kind": "KIND_CPU"}, {"kind": "KIND_GPU"}], "gpu"),
    ],
)
def test_contract_check_learns_where_the_model_runs(groups: list[dict[str, Any]], device: str) -> None:
    triton = TritonUpscaler.__new__(TritonUpscaler)
    triton.model, triton._timeout = "realesr-animevideov3-x4", 1
    triton._client = _FakeClient(GOOD_META, {"max_batch_size": 8, "instance_group": groups})
    triton._check_contract()
    assert triton.device == device


@pytest.mark.parametrize(
    ("metadata", "config", "words"),
    [
        (GOOD_META, {"max_batch_size": 0}, "max_batch_size"),
        (
            {
                **GOOD_META,
                "inputs": [{"name": "images", "datatype": "UINT8", "shape": ["-1", "-1", "-1", "3"]}],
            },
            {"max_batch_size": 4},
            "inputs",
        ),
        (
            {
                **GOOD_META,
                "outputs": [{"name": "output", "datatype": "FP32", "shape": ["-1", "-1", "-1", "3"]}],
            },
            {"max_batch_size": 4},
            "UINT8",
        ),
        (
            {
                **GOOD_META,
                "inputs": [{"name": "input", "datatype": "UINT8", "shape": ["-1", "3", "-1", "-1"]}],
            },
            {"max_batch_size": 4},
            "shape",
        ),
    ],
)
def test_contract_check_refuses_other_models(
    metadata: dict[str, Any], config: dict[str, Any], words: str
) -> None:
    with pytest.raises(ModelContractError, match=words):
        _check(metadata, config)


def test_model_not_ready_is_unavailable() -> None:
    with pytest.raises(InferenceUnavailableError, match="not ready"):
        _check(GOOD_META, {"max_batch_size": 4}, ready=False)


def test_unreachable_triton_is_unavailable() -> None:
    with pytest.raises(InferenceUnavailableError):
        TritonUpscaler("realesr-animevideov3-x4", "127.0.0.1:1", timeout_s=2)
