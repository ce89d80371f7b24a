"""``python -m adapter upscale`` as a user runs it: a real subprocess, real model, no servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures.media import ClipFactory, ffprobe

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
    assert done.stderr.strip() == "error: the file is not a video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]


def test_bad_arguments_exit_2(clip: ClipFactory, models_dir: Path, tmp_path: Path) -> None:
    assert (
        _upscale(
            clip("cfr25.mp4"), "-o", tmp_path / "o.mp4", "--scale", "5", models_dir=models_dir
        ).returncode
        == 2
    )
    assert _upscale(clip("cfr25.mp4"), "-o", tmp_path / "o.mkv", models_dir=models_dir).returncode == 2
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
