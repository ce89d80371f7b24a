"""Segment runs and assembly on real clips: frame-exact ranges, same timestamps and audio as a whole run."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter.errors import BadMessageError, TransientJobError
from adapter.job import Stages, Toolbox, Work, execute
from adapter.video import pipeline
from adapter.video.assembly import assemble
from adapter.video.stages import Result
from adapter.worker.flight import for_part
from adapter.worker.queue import RetryPolicy, Tries, decide_failure, parse_job
from adapter.worker.workspace import JobFiles
from contract.catalogue import reason
from contract.mediainfo import MediaInfo
from contract.messages import JobMessage, JobOptions, Segment
from contract.probe import keyframes
from contract.storage import output_key, segment_key
from tests.fixtures.media import packet_pts, time_base
from tests.fixtures.models import NearestX2
from tests.fixtures.worker import fake_info

JOB = "b" * 32


@pytest.mark.parametrize("cuts", [[51200, 102400], [40960, 97280]], ids=["keyframes", "between-keyframes"])
def test_segments_join_into_the_same_frames_timestamps_and_audio(
    clip12: Path, tmp_path: Path, cuts: list[int]
) -> None:
    bounds: list[int | None] = [None, *cuts, None]
    parts = []
    for index in range(3):
        part = tmp_path / f"{index:05d}.mp4"
        start, end = bounds[index], bounds[index + 1]
        segment = Segment(index=index, count=3, start_pts=start, end_pts=end, frames=100)
        done = pipeline.run(clip12, part, JobOptions(scale=2), NearestX2(), segment=segment)
        assert done.frames > 0
        assert packet_pts(part, "a") == [], "a segment is video only"
        parts.append(part)
    joined = assemble(clip12, parts, tmp_path / "joined.mp4")
    assert joined.frames == 300 and (joined.width, joined.height) == (128, 96)
    whole = tmp_path / "whole.mp4"
    pipeline.run(clip12, whole, JobOptions(scale=2), NearestX2())
    assert packet_pts(tmp_path / "joined.mp4", "v:0") == packet_pts(whole, "v:0") == packet_pts(clip12, "v:0")
    assert packet_pts(tmp_path / "joined.mp4", "a:0") == packet_pts(clip12, "a:0")


def test_assembly_refuses_a_missing_segment(clip12: Path, tmp_path: Path) -> None:
    with pytest.raises(TransientJobError, match="missing"):
        assemble(clip12, [tmp_path / "00000.mp4"], tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_segment_messages_are_checked() -> None:
    segment = Segment(index=1, count=3, start_pts=10, end_pts=20, frames=10)
    good = JobMessage(
        job_id=JOB, input_key=f"jobs/{JOB}/input.mp4", output_key=segment_key(JOB, 1), segment=segment
    )
    assert parse_job(good.model_dump_json().encode()).segment == segment
    wrong = good.model_copy(update={"output_key": output_key(JOB)})
    with pytest.raises(BadMessageError, match="segment output key"):
        parse_job(wrong.model_dump_json().encode())
    plain = JobMessage(job_id=JOB, input_key=f"jobs/{JOB}/input.mp4", output_key=segment_key(JOB, 0))
    with pytest.raises(BadMessageError, match="is a segment file"):
        parse_job(plain.model_dump_json().encode())


def test_segment_failures_name_the_segment() -> None:
    job = JobMessage(
        job_id=JOB,
        input_key=f"jobs/{JOB}/input.mp4",
        output_key=segment_key(JOB, 2),
        segment=Segment(index=2, count=6, frames=25),
    )
    down = TransientJobError(reason("job.triton_unreachable", url="triton:8001"))
    decision = for_part(job, decide_failure(JOB, down, Tries(5), RetryPolicy(attempts=5), 0.0))
    assert decision.event is not None and decision.event.segment == 2
    expected = "segment 3 of 6: Cannot connect to Triton at triton:8001. Gave up after 5 attempts."
    assert decision.reason == decision.event.reason == expected
    retried = for_part(job, decide_failure(JOB, down, Tries(1), RetryPolicy(attempts=5), 0.0))
    assert retried.event is not None and retried.event.type == "retry" and retried.event.segment == 2


def test_a_segment_cleans_only_its_own_partial_files(tmp_path: Path) -> None:
    def files(index: int) -> JobFiles:
        job = JobMessage(
            job_id=JOB,
            input_key=f"jobs/{JOB}/input.mp4",
            output_key=segment_key(JOB, index),
            segment=Segment(index=index, count=4, frames=25),
        )
        return JobFiles.for_job(tmp_path, job)

    mine, other, middle = files(1), files(3), files(2)
    mine.output.parent.mkdir(parents=True)
    others = [other.partial(other.output), middle.partial(middle.previews[0])]
    own = mine.partial(mine.output)
    for path in (*others, own):
        path.write_bytes(b"x")
    assert not mine.owns_previews and middle.owns_previews
    mine.discard_stale()
    assert not own.exists() and all(p.exists() for p in others)


def test_execute_hands_the_range_to_the_pipeline_and_assembles(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def run(*args: Any, **kwargs: Any) -> Result:
        seen["segment"] = kwargs["segment"]
        return Result(frames=5, width=8, height=8, seconds=0.1)

    def join(source: Path, parts: Any, output: Path, **_: Any) -> Result:
        seen["parts"] = list(parts)
        return Result(frames=10, width=8, height=8, seconds=0.1)

    def probe(path: Path, **_limits: Any) -> MediaInfo:
        return fake_info()

    stages = Stages(run_pipeline=run, make_upscaler=lambda model: NearestX2(), assemble=join, probe=probe)
    base = Work(tmp_path / "in.mp4", tmp_path / "out.mp4", None, tmp_path / "i.mp4", JobOptions())
    segment_work = Work(*base.__dict__.values())
    object.__setattr__(segment_work, "segment", (100, 200))
    assert execute(segment_work, stages, Toolbox(stages), lambda p: None, lambda: False).frames == 5
    assert seen["segment"] == (100, 200)
    execute(base, stages, Toolbox(stages), lambda p: None, lambda: False)
    assert seen["segment"] is None, "whole-video runs get segment=None"
    parts = (tmp_path / "a.mp4", tmp_path / "b.mp4")
    assembly = Work(
        tmp_path / "in.mp4", tmp_path / "out.mp4", None, tmp_path / "i.mp4", JobOptions(), segments=parts
    )
    assert execute(assembly, stages, Toolbox(stages), lambda p: None, lambda: False).frames == 10
    assert seen["parts"] == list(parts)


def _broadcast(path: Path, *, interlaced: bool) -> Path:
    """12 s of TV: MPEG-2 with a keyframe every 2 s and AC-3 sound in a TS starting at 10 s (woven fields)."""
    weave = ["-vf", "tinterlace=mode=interleave_top,setfield=tff", "-flags", "+ilme+ildct", "-top", "1"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=64x48:rate={50 if interlaced else 25}",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "12",
         *(weave if interlaced else []), "-c:v", "mpeg2video", "-g", "50", "-bf", "0", "-q:v", "3",
         "-c:a", "ac3", "-output_ts_offset", "10", "-f", "mpegts", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


def _pictures(path: Path) -> np.ndarray:
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vsync", "passthrough", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return np.frombuffer(done.stdout, np.uint8).reshape(-1, 96, 128).astype(np.float64)


@pytest.mark.parametrize("interlaced", [True, False], ids=["interlaced-field-rate", "ts-start-offset"])
def test_tv_footage_in_three_segments_joins_like_one_run(interlaced: bool, tmp_path: Path) -> None:
    source = _broadcast(tmp_path / "tv.ts", interlaced=interlaced)
    keys = keyframes(source)
    cuts = [min(keys, key=lambda k: abs(k - (keys[0] + 90000 * s))) for s in (4, 8)]  # near 4 s and 8 s in
    options = JobOptions(scale=2, deinterlace="field" if interlaced else "off")
    bounds: list[int | None] = [None, *cuts, None]
    parts = []
    for index in range(3):
        start, end = bounds[index], bounds[index + 1]
        segment = Segment(index=index, count=3, start_pts=start, end_pts=end, frames=100)
        parts.append(tmp_path / f"{index:05d}.mp4")
        pipeline.run(source, parts[-1], options, NearestX2(), segment=segment)
    joined, whole = tmp_path / "joined.mp4", tmp_path / "whole.mp4"
    assembled = assemble(source, parts, joined)
    pipeline.run(source, whole, options, NearestX2())
    rate = 2 if interlaced else 1
    assert assembled.frames == 300 * rate
    # The same pictures at the same times, audio moved by the same shift: A/V sync exact, starting at 0.
    assert packet_pts(joined, "v:0") == packet_pts(whole, "v:0")
    assert packet_pts(joined, "a:0") == packet_pts(whole, "a:0")
    frame = 1 / (25 * rate)
    assert 0 <= packet_pts(joined, "v:0")[0] * time_base(joined, "v:0") <= frame, "starts at 0, not at 10 s"
    # No seams: every picture of the joined video is the whole run's (bwdif had the cut's neighbours).
    a, b = _pictures(joined), _pictures(whole)
    assert a.shape == b.shape and a.shape[0] == 300 * rate
    worst = min(10 * np.log10(255**2 / max(np.mean((x - y) ** 2), 1e-9)) for x, y in zip(a, b, strict=True))
    assert worst >= 40, f"a picture at a cut differs from the whole run's: {worst:.1f} dB"
