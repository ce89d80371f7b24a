"""Region inference inside the pipeline: keyframe refreshes, segment starts, full motion, and Triton."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pytest

from adapter.limits import Limits
from adapter.regions.canvas import Canvas, upscale
from adapter.regions.planner import Planner
from adapter.video.pipeline import run
from contract.messages import JobOptions, Segment
from contract.probe import keyframes
from tests.fixtures.media import encode_frames
from tests.fixtures.regions import EXACT, NearestX4, moving_square, scene

AUTO = JobOptions(regions="auto")
STILL = Limits(regions_refresh_s=60)  # no timed refresh: only keyframes, cuts and starts refresh


class Counting(NearestX4):
    """One frame a call, so full-frame calls count frames."""

    max_batch = 1


def _full_calls(model: NearestX4, shape: tuple[int, int]) -> int:
    return sum(1 for s in model.shapes if s[1:3] == shape)


def test_every_keyframe_is_inferred_whole(tmp_path: Path) -> None:
    source = encode_frames(tmp_path / "gop.mp4", np.stack(moving_square(12)), rate=25, crf=0, gop=4)
    model = Counting()
    result = run(source, tmp_path / "out.mp4", AUTO, model, limits=STILL)
    assert result.frames == 12 and len(keyframes(source)) == 3
    assert _full_calls(model, (160, 256)) == 3  # frames 0, 4 and 8
    assert len(model.shapes) > 3 and result.share is not None and result.share < 0.75


def test_a_segment_starts_with_a_full_frame(tmp_path: Path) -> None:
    source = encode_frames(tmp_path / "gop.mp4", np.stack(moving_square(12)), rate=25, crf=0, gop=12)
    model = Counting()
    start = 6 * 512  # frame 6 in the 1/12800 time base: no keyframe there
    segment = Segment(index=1, count=2, start_pts=start, end_pts=None, frames=6)
    result = run(source, tmp_path / "seg.mp4", AUTO, model, segment=segment, limits=STILL)
    assert result.frames == 6
    assert model.shapes[0][1:3] == (160, 256) and _full_calls(model, (160, 256)) == 1


def test_full_motion_runs_full_frames_only(tmp_path: Path) -> None:
    base = scene(160, 400)
    pan = np.stack([np.ascontiguousarray(base[:, 5 * i : 5 * i + 256]) for i in range(8)])
    source = encode_frames(tmp_path / "pan.mp4", pan, rate=25, crf=23)
    model = Counting()
    result = run(source, tmp_path / "pan_out.mp4", AUTO, model)
    assert result.share == 1.0 and all(s[1:3] == (160, 256) for s in model.shapes)


@pytest.mark.triton
def test_triton_takes_several_rectangles_per_request(triton_url: str) -> None:
    from adapter.inference.upscalers import TritonUpscaler

    remote = TritonUpscaler("realesr-animevideov3-x4", triton_url, timeout_s=120)
    calls: list[tuple[int, ...]] = []

    class Recorded:
        max_batch = remote.max_batch

        def infer(self, batch: np.ndarray) -> np.ndarray:
            calls.append(batch.shape)
            return remote.infer(batch)

    try:
        planner, canvas = Planner(16, fps=25), Canvas(4)
        base = scene(192, 640)
        upscale(planner, canvas, Recorded(), base)
        moved = base.copy()
        for x in (100, 300, 500):  # three changes far apart: three 96×96 crops, one request
            moved[90:100, x : x + 10] = 255 - moved[90:100, x : x + 10]
        out = upscale(planner, canvas, Recorded(), moved)
        full = remote.infer(moved[None])[0]
    finally:
        remote.close()
    assert calls == [(1, 192, 640, 3), (3, 96, 96, 3)]
    changed = (slice(80 * 4, 112 * 4), slice(96 * 4, 112 * 4))
    assert np.abs(out[changed].astype(int) - full[changed]).mean() < 1.5


def test_the_stage_threads_paste_every_frame_in_order(tmp_path: Path) -> None:
    from adapter.video.decode import Decoder
    from adapter.video.encoder import Encoder
    from adapter.video.flow import Flow, Meter
    from bench.pipeline import decoded_frames
    from bench.regions import Collector

    frames = np.stack(moving_square(10))
    source = encode_frames(tmp_path / "lossless.mp4", frames, rate=25, crf=0)
    model, collector, decoder = NearestX4(), Collector(), Decoder(source)
    planner = Planner(16, fps=25, refresh_s=60, thresholds=EXACT)
    encoder = cast(Encoder, collector)  # keeps the frames instead of encoding them
    flow = Flow(
        decoder, model, lambda: encoder, size=(1024, 640), frames_total=10, segment=None, regions=planner
    )
    flow.run(lambda: False, Meter(None))
    want = [np.asarray(model.infer(f[None])[0]) for f in decoded_frames(source)]
    assert len(collector.frames) == 10 and flow.share < 0.6
    for got, expected in zip(collector.frames, want, strict=True):
        assert np.array_equal(got, expected)
