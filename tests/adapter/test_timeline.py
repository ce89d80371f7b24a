"""Real creators' files (issue 14, first part): timelines that don't start at 0, and anamorphic pixels."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from adapter.inference.base import Upscaler
from adapter.video.pipeline import run
from contract.messages import JobOptions
from tests.fixtures.creators import broadcast_ts
from tests.fixtures.media import ffprobe

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def _video(info: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def _audio(info: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s["codec_type"] == "audio"]


def test_a_broadcast_ts_starts_at_zero_with_sync_and_duration(upscaler: Upscaler, tmp_path: Path) -> None:
    source = broadcast_ts(tmp_path / "tuner.ts")
    src = ffprobe(source)
    assert float(src["format"]["start_time"]) > 10, "the fixture must start late"
    output = tmp_path / "out.mp4"
    run(source, output, JobOptions(scale=2), upscaler)
    out = ffprobe(output)
    frame = 1 / float(Fraction(_video(src)["r_frame_rate"]))
    assert abs(float(out["format"]["start_time"])) <= frame
    assert abs(float(_video(out)["start_time"])) <= frame
    # The container lasts what the input lasts (not offset + duration).
    assert abs(float(out["format"]["duration"]) - float(src["format"]["duration"])) <= frame
    # Every stream moved by the same amount: the gap between video and audio is the source's.
    assert len(_audio(out)) == len(_audio(src)) == 1
    gap = float(_video(src)["start_time"]) - float(_audio(src)[0]["start_time"])
    out_gap = float(_video(out)["start_time"]) - float(_audio(out)[0]["start_time"])
    assert abs(out_gap - gap) <= 0.002


@pytest.mark.parametrize("options", [JobOptions(scale=2), JobOptions(height=288)], ids=["scale", "height"])
def test_anamorphic_output_keeps_the_display_aspect_with_square_pixels(
    options: JobOptions, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = tmp_path / "dv.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25", "-t", "1", "-vf", "setsar=16/11",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source),
    )  # fmt: skip
    output = tmp_path / "out.mp4"
    result = run(source, output, options, upscaler)
    video = _video(ffprobe(output))
    assert video["sample_aspect_ratio"] == "1:1", "square pixels are tagged, never left to the player's guess"
    width, height = int(video["width"]), int(video["height"])
    assert (width, height) == (result.width, result.height)
    display = Fraction(176 * 16, 144 * 11)  # 16:9
    assert abs(width / height / float(display) - 1) <= 0.01
