"""Region inference: exactness against full frames (f32), refreshes, fallback, missed changes, memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from adapter.inference.upscalers import LocalUpscaler
from adapter.regions.canvas import Canvas, upscale
from adapter.regions.changes import Thresholds, changed_blocks
from adapter.regions.field import FIELDS, measure
from adapter.regions.planner import Planner
from tests.fixtures.regions import EXACT, NearestX4, moving_square, scene

MODEL = "realesr-animevideov3-x4"
def test_field_of_the_compact_model_is_measured_from_its_weights() -> None:
    recorded = FIELDS[MODEL]
    assert recorded is not None and recorded - 4 <= measure(MODEL, size=96, images=1) <= recorded


def test_threshold_zero_matches_full_frames_with_f32_inference() -> None:
    model = LocalUpscaler(
        MODEL, Path(__file__).resolve().parents[2] / ".models" / "onnx", runtime="onnxruntime"
    )
    planner, canvas = Planner(FIELDS[MODEL] or 0, fps=25, refresh_s=60, thresholds=EXACT), Canvas(4)
    frames = moving_square(4)
    for i, frame in enumerate(frames):
        got = upscale(planner, canvas, model, frame).astype(int)
        want = model.infer(frame[None])[0].astype(int)
        assert np.abs(got - want).max() <= 1, i
        assert (got == want).all(axis=2).mean() >= 0.999, i
    assert planner.share < 0.6  # the square's crops, not the whole frame


def test_refresh_at_keyframes_scene_cuts_and_every_n_seconds() -> None:
    planner = Planner(16, fps=10, refresh_s=0.5, thresholds=EXACT)
    frames = moving_square(9)  # a full frame at least every 0.5 s × 10 frames/s = 5 frames
    whys = [planner.plan(frames[0]).why, planner.plan(frames[1]).why, planner.plan(frames[2], key=True).why]
    whys.append(planner.plan(scene(seed=5)).why)  # another picture altogether
    whys += [planner.plan(frames[i]).why for i in (3, 4, 5, 6, 7, 8)]
    assert whys[:5] == ["start", "regions", "keyframe", "cut", "cut"]
    assert whys[5:] == ["regions"] * 4 + ["refresh"]


def test_full_motion_falls_back_to_full_frames() -> None:
    planner = Planner(16, fps=25)
    base = scene(160, 320)
    pan = [np.ascontiguousarray(base[:, 3 * i : 3 * i + 256]) for i in range(6)]
    works = [planner.plan(frame) for frame in pan]
    assert all(work.full for work in works) and planner.share == 1.0


def test_a_changed_word_on_a_still_slide_shows_in_the_very_next_frame(tmp_path: Path) -> None:
    from tests.fixtures.media import encode_frames

    slide = np.full((180, 320, 3), 245, np.uint8)
    for row, text in enumerate(("Lecture 4", "the model sees", "every pixel")):
        cv2.putText(slide, text, (12, 40 + 45 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    changed = slide.copy()
    cv2.rectangle(changed, (150, 95), (320, 140), (245, 245, 245), -1)  # "sees" becomes "saw"
    cv2.putText(changed, "saw", (150, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    from bench.pipeline import decoded_frames

    frames = decoded_frames(
        encode_frames(tmp_path / "slide.mp4", np.stack([slide] * 4 + [changed]), rate=25, crf=23)
    )
    model, planner, canvas = NearestX4(), Planner(16, fps=25), Canvas(4)
    outputs = [upscale(planner, canvas, model, frame) for frame in frames]
    want = model.infer(frames[-1][None])[0].astype(int)
    word = (slice(95 * 4, 140 * 4), slice(150 * 4, 320 * 4))
    assert np.abs(outputs[-1][word].astype(int) - want[word]).max() <= 8
    assert np.abs(outputs[-2][word].astype(int) - want[word]).max() > 100  # the word did change


def test_codec_noise_on_a_still_photo_does_not_count_but_a_cursor_does(tmp_path: Path) -> None:
    from skimage import data

    from bench.pipeline import decoded_frames
    from bench.region_clips import _cursor, _photo
    from tests.fixtures.media import encode_frames

    still = _photo(data.coffee(), 320, 192)
    frames = []
    for i in range(6):
        frame = still.copy()
        _cursor(frame, 250 + 4 * i, 150)  # the pointer crawls along the bottom right
        frames.append(frame)
    decoded = decoded_frames(encode_frames(tmp_path / "still.mp4", np.stack(frames), rate=25, crf=23))
    for frame in decoded[1:]:
        changed = changed_blocks(frame, decoded[0], Thresholds())
        assert changed[8:, 14:].any()  # the cursor's blocks
        assert not changed[:8].any() and not changed[:, :14].any()  # x264 noise everywhere else


def test_the_canvas_does_not_grow_with_length() -> None:
    model, planner, canvas = NearestX4(), Planner(16, fps=25, refresh_s=1), Canvas(4)
    frames = moving_square(20, 96, 192)
    tracemalloc.start()
    try:
        for frame in frames * 2:
            upscale(planner, canvas, model, frame)
        early = tracemalloc.get_traced_memory()[0]
        for frame in frames * 10:
            upscale(planner, canvas, model, frame)
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < 96 * 192 * 3 * 16  # less than one more output frame


@pytest.mark.parametrize("threshold", [EXACT, Thresholds()])
def test_crops_carry_one_bucket_size_per_call(threshold: Thresholds) -> None:
    model, planner, canvas = NearestX4(), Planner(16, fps=25, thresholds=threshold), Canvas(4)
    base = scene(320, 640)
    upscale(planner, canvas, model, base)
    moved = base.copy()
    for x in (100, 300, 500):  # three small changes far apart: three crops of one bucket size
        moved[150:160, x : x + 10] = 255 - moved[150:160, x : x + 10]
    out = upscale(planner, canvas, model, moved)
    assert model.shapes[1:] == [(2, 96, 96, 3), (1, 96, 96, 3)]  # max_batch 2
    assert np.array_equal(out, model.infer(moved[None])[0])
