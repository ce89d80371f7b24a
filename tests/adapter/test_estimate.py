"""The cost known before the start: the estimate's rule, and the one line the CLI prints before processing."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapter import cli
from adapter.limits import Limits
from contract.estimate import (
    BF16_SECONDS_PER_MEGAPIXEL,
    FIXED_S,
    SECONDS_PER_MEGAPIXEL,
    estimate_s,
    seconds_per_megapixel,
)
from contract.messages import JobOptions
from contract.probe import probe

ROOT = Path(__file__).resolve().parents[2]
PROBE_LIMITS = {"max_width": 3840, "max_height": 2160, "max_duration_s": 600.0}


def _pal(path: Path, frames: int = 4) -> Path:
    """720x576 25i, top field first (MPEG-2 in MPEG-PS, as a DVD or DV capture): ``frames`` frames."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=720x576:r=50"),
            *("-vf", "tinterlace=interleave_top,fieldorder=tff", "-frames:v", str(frames)),
            *("-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-top", "1", "-b:v", "6M", str(path)),
        ],
        check=True,
        timeout=120,
    )
    return path


def test_the_estimate_grows_with_pictures_pixels_and_the_model(tmp_path: Path) -> None:
    info = probe(_pal(tmp_path / "pal.mpg"), **PROBE_LIMITS)  # type: ignore[arg-type]
    fast = estimate_s(info, "realesr-animevideov3-x4", (1440, 1152), 8)
    assert fast > FIXED_S and estimate_s(info, "realesr-animevideov3-x4", (1440, 1152), 16) > fast
    slow = estimate_s(info, "realesrgan-x4plus", (1440, 1152), 8)
    assert slow - FIXED_S > 5 * (fast - FIXED_S)  # measured: the large network is many times slower
    model_s = SECONDS_PER_MEGAPIXEL["realesr-animevideov3-x4"] * 720 * 576 / 1e6 * 8
    assert model_s < fast - FIXED_S < 2 * model_s  # the model is most of a picture's cost
    twice = estimate_s(info, "realesr-animevideov3-x4", (1440, 1152), 16)
    assert twice - FIXED_S == pytest.approx(2 * (fast - FIXED_S), abs=0.2)  # pictures add up


def test_a_busy_host_stretches_the_estimate_by_its_share_of_the_cores(tmp_path: Path) -> None:
    info = probe(_pal(tmp_path / "pal.mpg"), **PROBE_LIMITS)  # type: ignore[arg-type]
    idle = estimate_s(info, "realesr-animevideov3-x4", (1440, 1152), 8, cores=2)
    busy = estimate_s(info, "realesr-animevideov3-x4", (1440, 1152), 8, load=2.0, cores=2)
    assert busy == pytest.approx(2 * idle, rel=0.01)  # two others runnable: half the cores


def test_an_unmeasured_model_counts_as_the_slowest_of_its_family() -> None:
    assert seconds_per_megapixel("realcugan-se-x9") == max(
        s for name, s in SECONDS_PER_MEGAPIXEL.items() if name.startswith("realcugan")
    )


def test_the_estimate_follows_the_precision_the_model_runs_in(tmp_path: Path) -> None:
    info = probe(_pal(tmp_path / "pal.mpg"), **PROBE_LIMITS)  # type: ignore[arg-type]
    model = "realesr-animevideov3-x4"
    assert seconds_per_megapixel(model, "bf16") == BF16_SECONDS_PER_MEGAPIXEL[model]
    # int8 runs only a gated model (none yet): it keeps the f32 figure, so the estimate errs long.
    assert (
        seconds_per_megapixel(model, "int8")
        == seconds_per_megapixel(model, "f32")
        == SECONDS_PER_MEGAPIXEL[model]
    )
    f32 = estimate_s(info, model, (1440, 1152), 8, precision="f32")
    bf16 = estimate_s(info, model, (1440, 1152), 8, precision="bf16")
    model_mp = 720 * 576 / 1e6 * 8
    gap = (SECONDS_PER_MEGAPIXEL[model] - BF16_SECONDS_PER_MEGAPIXEL[model]) * model_mp
    assert f32 - bf16 == pytest.approx(gap, abs=0.2)  # only the model's share changes
    assert set(BF16_SECONDS_PER_MEGAPIXEL) == set(SECONDS_PER_MEGAPIXEL)  # every model measured in both


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_the_cli_line_names_the_precision_it_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    monkeypatch.setattr(cli, "host_precision", lambda requested: precision)
    args = argparse.Namespace(input=_pal(tmp_path / "pal.mpg"), precision="auto")
    line = cli._estimate(args, JobOptions(scale=2), Limits())
    speed = seconds_per_megapixel("realesr-animevideov3-x4", precision)
    assert f"realesr-animevideov3-x4 at {speed:g} s per megapixel in {precision}," in line


def test_the_cli_line_counts_fields_and_warns_past_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = _pal(tmp_path / "pal.mpg")
    args = argparse.Namespace(input=clip, precision="auto")
    line = cli._estimate(args, JobOptions(scale=2), Limits())
    assert line.startswith("estimate: about ") and "720x576 -> 1440x1152, 8 pictures" in line
    assert re.search(r"load \d+\.\d on \d+ cores: x\d+\.\d\)$", line.splitlines()[0])
    assert "warning" not in line
    assert "4 pictures" in cli._estimate(args, JobOptions(scale=2, deinterlace="off"), Limits())
    monkeypatch.setattr(cli, "WARN_S", 1.0)
    assert "\nwarning: this job should take more than an hour" in cli._estimate(args, JobOptions(), Limits())


@pytest.mark.slow  # a real CLI run: interpreter, model compiled, one 720x576 picture (≈ 30 s on a busy host)
def test_the_cli_prints_the_estimate_before_processing(models_dir: Path, tmp_path: Path) -> None:
    clip = _pal(tmp_path / "pal.mpg", frames=1)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "adapter", "upscale", str(clip), "-o", str(tmp_path / "out.mp4")),
            *("--scale", "2", "--deinterlace", "off", "--models-dir", str(models_dir)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith("estimate: about ")
