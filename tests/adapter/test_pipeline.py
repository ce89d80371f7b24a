"""The pipeline end to end on tiny real clips with the real in-process model."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter.errors import InvalidInputError, JobCancelled, LimitExceededError
from adapter.inference.base import Upscaler
from adapter.limits import Limits
from adapter.video.pipeline import run
from adapter.video.stages import Progress, Result
from contract.messages import JobOptions
from contract.sizing import job_output_size, output_size
from tests.fixtures.media import ClipFactory, ffprobe, frame_times

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

CLIPS: dict[str, dict[str, Any]] = {
    "cfr25": {},
    "cfr2997": {"rate": "30000/1001"},
    "vfr": {"rate": "30", "vfr": True},
    "rotated": {"rotate": 90},
    "odd177x99": {"size": "177x99"},
    "tiny16": {"size": "16x16"},
    "tracks": {"audio_tracks": 2, "subtitles": True},
    "silent": {"audio_tracks": 0},
}


def _streams(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s["codec_type"] == kind]


def _rotation(stream: dict[str, Any]) -> int:
    return next((int(d["rotation"]) % 360 for d in stream.get("side_data_list", []) if "rotation" in d), 0)


def _display(stream: dict[str, Any]) -> tuple[int, int]:
    w, h = int(stream["width"]), int(stream["height"])
    return (h, w) if _rotation(stream) in (90, 270) else (w, h)


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_valid_clip_keeps_frames_timing_streams_and_tags(
    name: str, clip: ClipFactory, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = clip(f"{name}.mp4", **CLIPS[name])
    output = tmp_path / "out.mp4"
    result = run(source, output, JobOptions(scale=2), upscaler)
    src, out = ffprobe(source), ffprobe(output)
    src_video, out_video = _streams(src, "video")[0], _streams(out, "video")[0]
    src_w, src_h = _display(src_video)
    expected = output_size(src_w, src_h, scale=2)
    assert _display(out_video) == expected == (result.width, result.height)
    assert int(out_video["width"]) % 2 == 0 and int(out_video["height"]) % 2 == 0
    assert _rotation(out_video) == _rotation(src_video)
    # Same frames at the same times (VFR included): every timestamp within a millisecond.
    src_times, out_times = frame_times(source), frame_times(output)
    assert len(out_times) == len(src_times) == result.frames
    assert max(abs(a - b) for a, b in zip(src_times, out_times, strict=True)) < 0.001
    frame = 1 / float(Fraction(src_video["r_frame_rate"]))
    assert abs(float(out_video["duration"]) - float(src_video["duration"])) <= frame
    # Every audio track and subtitle kept, in order, with language tags; audio in sync.
    for kind in ("audio", "subtitle"):
        assert len(_streams(out, kind)) == len(_streams(src, kind))
    for a, b in zip(_streams(src, "audio"), _streams(out, "audio"), strict=True):
        assert abs(float(a["duration"]) - float(b["duration"])) <= 0.05
        assert abs(float(a.get("start_time", 0)) - float(b.get("start_time", 0))) <= 0.05
        assert a["tags"].get("language") == b["tags"].get("language")
    assert out["format"]["tags"].get("title") == "fixture clip"
    # Colour tagged with what was used for the conversion (untagged SD is BT.601).
    assert out_video["color_space"] == "smpte170m" and out_video["color_range"] == "tv"
    assert out_video["pix_fmt"] == "yuv420p"


def _mean_rgb(path: Path, matrix: str, full: bool) -> np.ndarray:
    """Decode frame 0 with ffmpeg using the given matrix/range (independent of the adapter's own decoder)."""
    info = _streams(ffprobe(path), "video")[0]
    w, h = int(info["width"]), int(info["height"])
    graph = f"scale=in_color_matrix={matrix}:in_range={'pc' if full else 'tv'},format=rgb24"
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1", "-vf", graph, "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize(
    ("kwargs", "matrix", "full"),
    [
        ({}, "bt601", False),
        ({"colour": "bt709", "color_range": "pc", "pix_fmt": "yuvj420p"}, "bt709", True),
    ],
)
def test_sd_to_hd_keeps_colours(
    kwargs: dict[str, Any], matrix: str, full: bool, clip: ClipFactory, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = clip("colour.mp4", static=True, size="160x120", audio_tracks=0, **kwargs)
    output = tmp_path / "hd.mp4"
    run(source, output, JobOptions(height=720), upscaler)
    tags = _streams(ffprobe(output), "video")[0]
    out_matrix = {"smpte170m": "bt601", "bt470bg": "bt601", "bt709": "bt709"}[tags["color_space"]]
    assert out_matrix == matrix and (tags["color_range"] == "pc") == full
    before = _mean_rgb(source, matrix, full)
    after = _mean_rgb(output, out_matrix, tags["color_range"] == "pc")
    # Decoding the HD output as its tags say gives the source's colour, not a washed-out one.
    assert np.abs(before - after).max() < 4, (before, after)


def test_static_frames_are_inferred_once(clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    source = clip("static.mp4", static=True, seconds=2)
    result = run(source, tmp_path / "out.mp4", JobOptions(scale=2), upscaler)
    assert result.frames == 50 and result.inferred == 1
    assert len(frame_times(tmp_path / "out.mp4")) == 50


def _rgb_frames(path: Path) -> np.ndarray:
    """Every frame of a video as RGB, decoded by PyAV independently of the pipeline."""
    import av

    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


class _Overlapping:
    """An identity model whose calls overlap and finish out of order; it counts how many ran at once.

    Call 0 waits until call 1 has finished, so call 1's answer comes back first whenever the pipeline
    really keeps several requests in flight. It waits on that state, not on a time: a loaded host may start
    call 1 seconds later. The bound only stops a pipeline that sends one request at a time from hanging.
    """

    #: Generous: reached only when call 1 never starts while call 0 runs, which fails the test anyway.
    PARTNER_TIMEOUT_S = 120.0

    scale, max_batch, in_flight, device = 1, 2, 4, "cpu"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished: defaultdict[int, threading.Event] = defaultdict(threading.Event)
        self._calls = self._running = 0
        self.most_at_once = 0
        self.finish_order: list[int] = []

    def infer(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            number, self._calls = self._calls, self._calls + 1
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
            partner = self._finished[1] if number == 0 else None
        if partner is not None:
            partner.wait(timeout=self.PARTNER_TIMEOUT_S)
        with self._lock:
            self._running -= 1
            self.finish_order.append(number)
            self._finished[number].set()
        return batch.copy()

    def close(self) -> None:
        return None


def test_frames_stay_in_order_with_several_requests_in_flight(clip: ClipFactory, tmp_path: Path) -> None:
    model = _Overlapping()
    source = clip("order.mp4", seconds=1, audio_tracks=0)
    result = run(source, tmp_path / "out.mp4", JobOptions(scale=1), model)
    assert model.most_at_once >= 2, "several requests were in flight at once"
    # Only the order of calls 0 and 1 is fixed: calls 2, 3... answer at once and may finish before call 0.
    assert model.finish_order.index(1) < model.finish_order.index(0), "the model answered out of order"
    inputs, outputs = _rgb_frames(source), _rgb_frames(tmp_path / "out.mp4")
    assert result.inferred == result.frames == len(inputs) == len(outputs) == 25
    # Each output frame is nearest to the input frame at the same index (x264 changes pixels a little).
    distance = np.abs(outputs[:, None].astype(np.int16) - inputs[None].astype(np.int16)).mean(axis=(2, 3, 4))
    assert list(distance.argmin(axis=1)) == list(range(len(inputs)))


def test_height_option_keeps_aspect_and_writes_previews(
    clip: ClipFactory, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = clip("rotated.mp4", **CLIPS["rotated"])
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    result = run(source, tmp_path / "out.mp4", JobOptions(height=480), upscaler, previews=(before, after))
    # The clip is 176x144 turned 90°: displayed 144x176, so 480 high is 392 wide (rounded to even).
    assert (result.width, result.height) == (392, 480)
    import cv2

    for jpg in (before, after):
        image = cv2.imread(str(jpg))
        assert image is not None and image.shape[:2] == (480, 392)


def test_progress_is_reported_and_rate_limited(clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    seen: list[Progress] = []
    result = run(clip("cfr25.mp4"), tmp_path / "out.mp4", JobOptions(), upscaler, on_progress=seen.append)
    assert seen and seen[-1].frames_done == seen[-1].frames_total == result.frames
    assert [p.frames_done for p in seen] == sorted(p.frames_done for p in seen)
    assert len(seen) <= result.seconds / 0.5 + 2


def test_cancel_raises_and_leaves_nothing(clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    calls = iter(range(1000))
    output = tmp_path / "out.mp4"
    with pytest.raises(JobCancelled):
        run(
            clip("long.mp4", seconds=4),
            output,
            JobOptions(scale=4),
            upscaler,
            should_stop=lambda: next(calls) >= 2,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["corrupt", "text", "playlist"])
def test_bad_input_fails_cleanly(name: str, clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    source = tmp_path / "input.mp4"
    if name == "corrupt":
        source.write_bytes(clip("cfr25.mp4").read_bytes()[:3000])
    elif name == "text":
        source.write_text("this is a shopping list, not a video\n")
    else:
        source.write_text(
            f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{clip('cfr25.mp4')}\n#EXT-X-ENDLIST\n"
        )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(InvalidInputError) as caught:
        run(source, out_dir / "out.mp4", JobOptions(), upscaler)
    assert "\n" not in str(caught.value) and str(caught.value)
    assert list(out_dir.iterdir()) == []


def test_limits_refuse_long_and_huge_output(clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    source = clip("cfr25.mp4")
    with pytest.raises(LimitExceededError, match="lasts"):
        run(source, tmp_path / "a.mp4", JobOptions(), upscaler, limits=Limits(max_duration_s=0.5))
    with pytest.raises(LimitExceededError, match="output"):
        run(source, tmp_path / "b.mp4", JobOptions(), upscaler, limits=Limits(max_output=(400, 300)))
    assert list(tmp_path.iterdir()) == []


def test_libx265_and_mkv_input(clip: ClipFactory, upscaler: Upscaler, tmp_path: Path) -> None:
    source = clip("tracks.mkv", subtitles=True, seconds=1)
    result: Result = run(
        source, tmp_path / "out.mp4", JobOptions(scale=2, encoder="libx265", preset="ultrafast"), upscaler
    )
    out = ffprobe(tmp_path / "out.mp4")
    assert _streams(out, "video")[0]["codec_name"] == "hevc"
    assert [s["codec_name"] for s in _streams(out, "subtitle")] == ["mov_text"]
    assert len(frame_times(tmp_path / "out.mp4")) == result.frames == 25


class _OnGpu:
    """The real in-process model, presented as if it ran on a GPU (only ``device`` differs)."""

    def __init__(self, inner: Upscaler) -> None:
        self.inner, self.device = inner, "gpu"
        self.scale, self.max_batch, self.in_flight = inner.scale, inner.max_batch, inner.in_flight

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.inner.infer(batch)

    def close(self) -> None:
        return None


def _x264_subme(path: Path) -> int:
    """x264's subme setting, read from the stream (0 ultrafast, 2 veryfast, 7 medium)."""
    found = re.search(rb"x264 - core \d+.*? options: [^\x00]*?subme=(\d+)", path.read_bytes())
    assert found is not None, "no x264 settings in the output"
    return int(found.group(1))


@pytest.mark.parametrize(
    ("preset", "on_gpu", "subme"),
    [("auto", False, 0), ("auto", True, 2), ("medium", False, 7), ("veryfast", False, 2)],
)
def test_auto_preset_follows_where_the_model_runs(
    preset: str, on_gpu: bool, subme: int, clip: ClipFactory, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = clip("cfr25.mp4", seconds=1)
    model: Upscaler = _OnGpu(upscaler) if on_gpu else upscaler
    run(source, tmp_path / "out.mp4", JobOptions(scale=2, preset=preset), model)
    assert _x264_subme(tmp_path / "out.mp4") == subme


@pytest.mark.parametrize(
    ("options", "size"),
    [
        (JobOptions(scale=2), (354, 198)),
        (JobOptions(scale=3), (532, 298)),
        (JobOptions(height=720), (1288, 720)),
        (JobOptions(), (708, 396)),
    ],
)
def test_output_size_is_even_and_keeps_aspect(options: JobOptions, size: tuple[int, int]) -> None:
    assert job_output_size(options, 177, 99) == size
