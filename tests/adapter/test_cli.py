"""``python -m adapter upscale`` as a user runs it: a real subprocess, real model, no servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contract.catalogue import reason
from tests.fixtures.media import ClipFactory, ffprobe
from tests.fixtures.services import require

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _upscale(*args: str | Path, models_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapter", "upscale", *map(str, args), "--models-dir", str(models_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upscale_writes_the_requested_size(clip: ClipFactory, models_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    done = _upscale(
        clip("cfr25.mp4"),
        "-o",
        output,
        "--height",
        "288",
        "--crf",
        "23",
        "--preset",
        "veryfast",
        models_dir=models_dir,
    )
    assert done.returncode == 0, done.stderr
    video = next(s for s in ffprobe(output)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (352, 288)
    assert "25/25 frames" in done.stderr


def test_bad_input_gives_one_line_and_no_file(models_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "notes.mp4"
    source.write_text("not a video")
    output = tmp_path / "out.mp4"
    done = _upscale(source, "-o", output, models_dir=models_dir)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: " + reason("media.not_video").text("en")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]


def test_bad_arguments_exit_2(clip: ClipFactory, models_dir: Path, tmp_path: Path) -> None:
    assert (
        _upscale(
            clip("cfr25.mp4"), "-o", tmp_path / "o.mp4", "--scale", "5", models_dir=models_dir
        ).returncode
        == 2
    )
    assert _upscale(clip("cfr25.mp4"), "-o", tmp_path / "o.avi", models_dir=models_dir).returncode == 2
    assert (
        _upscale(
            clip("cfr25.mp4"),
            "-o",
            tmp_path / "o.mp4",
            "--scale",
            "2",
            "--height",
            "480",
            models_dir=models_dir,
        ).returncode
        == 2
    )
    assert list(tmp_path.iterdir()) == []


def test_unknown_command_prints_usage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "dance"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "usage" in done.stderr


# ---- audio description from the command line -----------------------------------------------------------

DETECTOR = ROOT / ".models" / "description" / "centernet.onnx"


def _audio(path: Path) -> list[dict[str, Any]]:
    return [s for s in ffprobe(path)["streams"] if s["codec_type"] == "audio"]


def _video(path: Path) -> dict[str, Any]:
    return next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")


def test_upscale_and_describe_adds_a_flagged_track_and_vtt(
    clip: ClipFactory, models_dir: Path, tmp_path: Path
) -> None:
    require(DETECTOR.is_file(), "run python -m adapter.description.setup.fetch_models")
    output = tmp_path / "out.mp4"
    done = _upscale(
        clip("titled.mp4", title="Новости"), "-o", output, "--scale", "2", "--preset", "veryfast",
        "--describe", "ru",
        models_dir=models_dir,
    )
    assert done.returncode == 0, done.stderr
    assert (_video(output)["width"], _video(output)["height"]) == (352, 288)
    original, description = _audio(output)
    assert original["disposition"]["visual_impaired"] == 0
    assert description["disposition"]["visual_impaired"] == 1
    assert description["disposition"]["descriptions"] == 1
    assert description["tags"]["language"] == "rus"
    assert (tmp_path / "out.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    assert "25/25 frames" in done.stderr and "out.vtt" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.vtt"], "no temporaries left"


def test_describe_without_upscaling_keeps_the_video(
    clip: ClipFactory, models_dir: Path, tmp_path: Path
) -> None:
    require(DETECTOR.is_file(), "run python -m adapter.description.setup.fetch_models")
    source = clip("cfr25.mp4")
    output = tmp_path / "out.mp4"
    done = _upscale(source, "-o", output, "--no-upscale", "--describe", "en", models_dir=models_dir)
    assert done.returncode == 0, done.stderr
    assert (_video(output)["width"], _video(output)["height"]) == (176, 144)
    assert _video(output)["codec_name"] == _video(source)["codec_name"]
    assert [a["tags"]["language"] for a in _audio(output)] == ["eng", "eng"]
    assert _audio(output)[1]["disposition"]["descriptions"] == 1


def test_no_upscale_alone_is_refused(clip: ClipFactory, models_dir: Path, tmp_path: Path) -> None:
    done = _upscale(clip("cfr25.mp4"), "-o", tmp_path / "o.mp4", "--no-upscale", models_dir=models_dir)
    assert done.returncode == 2 and "nothing to do" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_describe_command_gives_one_line_on_bad_input(tmp_path: Path) -> None:
    source = tmp_path / "notes.mp4"
    source.write_text("not a video")
    done = subprocess.run(
        [sys.executable, "-m", "adapter", "describe", source, "-o", tmp_path / "o.mp4", "--lang", "ru"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
