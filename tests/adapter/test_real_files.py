"""Files creators really have, made here with ffmpeg, through the pipeline: geometry, timing, sound, colour.

Anamorphic, broadcast TS offsets, interlacing, size changes and 10-bit/HDR have their own tests
(test_timeline, test_deinterlace, test_stream_limits, test_depth); this is the rest of the matrix.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter.inference.base import Upscaler
from adapter.video.depth import high_bit_depth
from adapter.video.pipeline import run
from contract.messages import JobOptions
from tests.fixtures.creators import CLIPS, matrix_clip
from tests.fixtures.media import ffprobe

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow


def _streams(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s["codec_type"] == kind]


def _packets(path: Path) -> int:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
         "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(done.stdout.strip().strip(","))


@pytest.mark.parametrize("name", [*CLIPS, "vp9-webm-live"])
def test_a_creators_file_keeps_its_geometry_timing_sound_and_colour(
    name: str, upscaler: Upscaler, tmp_path: Path
) -> None:
    source = matrix_clip(name, tmp_path)
    output = tmp_path / "out.mp4"
    result = run(source, output, JobOptions(scale=2), upscaler)
    src, out = ffprobe(source), ffprobe(output)
    src_video, out_video = _streams(src, "video")[0], _streams(out, "video")[0]
    # Geometry: the display aspect (176x144, square pixels) within 1 %.
    assert abs(int(out_video["width"]) / int(out_video["height"]) / (176 / 144) - 1) <= 0.01
    # Timing: every frame, starting at 0, lasting what the input lasts.
    frames = _packets(source)
    assert result.frames == frames == _packets(output)
    frame = 1 / float(Fraction(out_video["avg_frame_rate"]))
    assert abs(float(out["format"].get("start_time", 0))) <= frame
    assert abs(float(out_video["duration"]) - frames * frame) <= frame
    # Sound: every audio track kept.
    assert len(_streams(out, "audio")) == len(_streams(src, "audio"))
    # Colour: range kept (a full-range MJPEG or yuvj420p source stays full range); 10 bits stay 10 bits.
    full = src_video.get("color_range") == "pc" or src_video["pix_fmt"].startswith("yuvj")
    assert out_video.get("color_range", "tv") == ("pc" if full else "tv")
    deep = high_bit_depth(src_video["pix_fmt"])  # ProRes 4444 decodes at 12 bits
    assert out_video["pix_fmt"] == ("yuv420p10le" if deep else "yuvj420p" if full else "yuv420p")


def test_alpha_is_flattened_onto_black(upscaler: Upscaler, tmp_path: Path) -> None:
    source = matrix_clip("prores4444-alpha", tmp_path)
    output = tmp_path / "out.mp4"
    run(source, output, JobOptions(scale=2), upscaler)
    opaque = tmp_path / "opaque.mov"  # the same picture without its alpha channel
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25",
         "-t", "1", "-c:v", "prores_ks", "-pix_fmt", "yuv444p10le", str(opaque)],
        check=True, timeout=120,
    )  # fmt: skip
    reference = tmp_path / "ref.mp4"
    run(opaque, reference, JobOptions(scale=2), upscaler)

    def brightness(path: Path) -> float:
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
             "-pix_fmt", "gray", "-"],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        return float(np.frombuffer(done.stdout, np.uint8).mean())

    # Half-transparent over black is about half as bright as the opaque picture.
    ratio = brightness(output) / brightness(reference)
    assert 0.4 <= ratio <= 0.65, ratio
