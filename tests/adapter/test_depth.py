"""10-bit and HDR video stays 10-bit: 16-bit pictures around the 8-bit model, HEVC Main10 out, tags kept."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter.inference.base import Upscaler
from adapter.video import pipeline
from adapter.video.depth import high_bit_depth, narrow, widen
from adapter.video.flow import resize
from adapter.video.pipeline import run
from bench.depth import luma_levels, mean_delta_e, ramp_clip
from contract.messages import JobOptions
from tests.fixtures.media import ffprobe


def _video(info: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in info["streams"] if s["codec_type"] == "video")


@pytest.mark.parametrize(
    ("transfer", "primaries", "matrix", "codec"),
    [
        ("smpte2084", "bt2020", "bt2020nc", "libx265"),  # HDR10 (PQ) with mastering metadata
        ("arib-std-b67", "bt2020", "bt2020nc", "libx265"),  # HLG, what iPhones record
        ("bt709", "bt709", "bt709", "libx264"),  # 10-bit SDR (H.264 High 10)
    ],
    ids=["pq", "hlg", "sdr10"],
)
def test_ten_bits_in_ten_bits_out(
    transfer: str, primaries: str, matrix: str, codec: str,
    upscaler: Upscaler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    source = ramp_clip(
        tmp_path / "sky.mp4", transfer=transfer, primaries=primaries, matrix=matrix, codec=codec
    )
    output = tmp_path / "out.mp4"
    run(source, output, JobOptions(scale=2), upscaler)
    video = _video(ffprobe(output))
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("hevc", "Main 10", "yuv420p10le")
    assert (video["color_transfer"], video["color_primaries"], video["color_space"]) == (
        transfer,
        primaries,
        matrix,
    )
    # The ramp keeps its levels, where an 8-bit path bands it.
    levels_in, levels_out = luma_levels(source), luma_levels(output)
    monkeypatch.setattr(pipeline, "high_bit_depth", lambda _pix_fmt: False)
    narrow8 = tmp_path / "out8.mp4"
    run(source, narrow8, JobOptions(scale=2), upscaler)
    levels_8 = luma_levels(narrow8)
    assert levels_out >= 0.9 * levels_in and levels_out >= 2 * levels_8, (levels_in, levels_out, levels_8)
    # Colour: the result brought back to the source size is within ΔE2000 ≤ 1 of it on average.
    delta = mean_delta_e(source, output)
    assert delta <= 1.0, delta


def test_hdr_side_data_is_kept(upscaler: Upscaler, tmp_path: Path) -> None:
    source = ramp_clip(tmp_path / "hdr10.mp4", transfer="smpte2084", primaries="bt2020", matrix="bt2020nc")
    output = tmp_path / "out.mp4"
    run(source, output, JobOptions(scale=2), upscaler)
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-read_intervals", "%+#1", "-show_frames",
         "-show_entries", "frame=side_data_list", "-of", "json", str(output)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert 'red_x": "34000/50000' in done.stdout and 'max_luminance": "10000000/10000' in done.stdout
    assert '"max_content": 1000' in done.stdout and '"max_average": 400' in done.stdout


def test_widen_keeps_precision_where_the_model_changes_nothing_but_rounding() -> None:
    row = np.linspace(30000, 31000, 64).astype(np.uint16)
    base = np.repeat(np.repeat(row[None, :, None], 8, 0), 3, 2)
    given = narrow(base)
    assert len(np.unique(given[0, :, 0])) <= 5  # 1000/65535 of range: four or five 8-bit levels
    size = (128, 16)
    same = widen(base, given, resize(given, *size), size)
    assert len(np.unique(same[4, :, 0])) >= 100, "the smooth 16-bit ramp comes through, not the 8-bit steps"
    # A real change (the model brightens a block by 20 levels) comes through at 16 bits.
    answer = resize(given, *size).copy()
    answer[:, :16] = np.minimum(answer[:, :16].astype(np.int32) + 20, 255).astype(np.uint8)
    changed = widen(base, given, answer, size)
    gain = changed[:, 2:14].astype(np.int32) - same[:, 2:14].astype(np.int32)
    assert np.all(np.abs(gain - 19 * 257) <= 257)


@pytest.mark.parametrize(
    ("pix_fmt", "deep"),
    [("yuv420p", False), ("yuvj420p", False), ("yuv420p10le", True), ("p010le", True),
     ("yuv444p12le", True), ("rgb24", False), ("not-a-format", False)],
)  # fmt: skip
def test_high_bit_depth(pix_fmt: str, deep: bool) -> None:
    assert high_bit_depth(pix_fmt) is deep
