"""The pipeline through a real tritonserver (CPU model repository), with and without shared memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapter.inference.base import Upscaler
from adapter.inference.upscalers import TritonUpscaler, make_upscaler
from adapter.video.pipeline import run
from contract.messages import JobOptions
from tests.fixtures.media import ClipFactory, ffprobe, frame_times

pytestmark = pytest.mark.triton


@pytest.mark.parametrize("shared_memory", [False, True])
def test_triton_matches_the_local_model(triton_url: str, upscaler: Upscaler, shared_memory: bool) -> None:
    remote = TritonUpscaler("realesr-animevideov3-x4", triton_url, timeout_s=60, shared_memory=shared_memory)
    try:
        assert remote.max_batch >= 1 and remote.scale == 4
        assert remote.device == "cpu"  # the CPU repository's instance_group is KIND_CPU
        frames = np.random.default_rng(0).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
        out = remote.infer(frames)
        assert out.shape == (2, 192, 256, 3) and out.dtype == np.uint8
        assert np.abs(out.astype(int) - upscaler.infer(frames).astype(int)).mean() < 2
    finally:
        remote.close()


def test_pipeline_through_triton(triton_url: str, clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("tracks.mp4", audio_tracks=2, subtitles=True)
    upscaler = make_upscaler("realesr-animevideov3-x4", triton_url, Path("unused"), 60)
    try:
        result = run(source, tmp_path / "out.mp4", JobOptions(height=288), upscaler)
    finally:
        upscaler.close()
    assert (result.width, result.height, result.frames) == (352, 288, 25)
    assert frame_times(tmp_path / "out.mp4") == frame_times(source)
    kinds = [s["codec_type"] for s in ffprobe(tmp_path / "out.mp4")["streams"]]
    assert kinds == ["video", "audio", "audio", "subtitle"]
