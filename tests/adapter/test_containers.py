"""Subtitles MP4 cannot carry: MKV keeps styled ASS with its fonts and PGS pictures; MP4 says what it lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapter.inference.base import Upscaler
from adapter.video.pipeline import run
from contract.catalogue import Reason
from contract.container import Container
from contract.messages import JobOptions
from tests.fixtures.media import ffprobe
from tests.fixtures.subtitles import mkv_with_picture_subtitles, mkv_with_styled_subtitles

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _kinds(info: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["codec_type"], s["codec_name"]) for s in info["streams"]]


def _subtitle_packets(path: Path) -> int:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "s:0", "-count_packets", "-show_entries",
         "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(done.stdout.strip().strip(",") or 0)


def _codes(notes: tuple[Reason, ...]) -> set[str]:
    return {note.code for note in notes}


@pytest.mark.parametrize("kind", ["styled", "picture"])
def test_auto_writes_mkv_that_keeps_the_subtitles(kind: str, upscaler: Upscaler, tmp_path: Path) -> None:
    make = mkv_with_styled_subtitles if kind == "styled" else mkv_with_picture_subtitles
    source = make(tmp_path / "in.mkv")
    output = tmp_path / "out.mkv"
    result = run(source, output, JobOptions(scale=2), upscaler)
    src, out = ffprobe(source), ffprobe(output)
    assert out["format"]["format_name"].startswith("matroska")
    # Every stream but the re-encoded video is kept as it was: sound, the subtitle codec, the font.
    assert _kinds(out)[1:] == _kinds(src)[1:]
    assert _subtitle_packets(output) == _subtitle_packets(source) > 0
    language = next(s for s in out["streams"] if s["codec_type"] == "subtitle")["tags"]["language"]
    assert language == ("rus" if kind == "styled" else "eng")
    if kind == "styled":
        font = next(s for s in out["streams"] if s["codec_type"] == "attachment")
        assert font["tags"]["filename"] == "DejaVuSans.ttf"
    assert _codes(result.notes) == {"note.kept_in_mkv"}
    assert abs(float(out["format"].get("start_time", 0))) <= 0.04


@pytest.mark.parametrize(("kind", "subtitles", "note"), [
    ("styled", [("subtitle", "mov_text")], "note.styles_flattened"),
    ("picture", [], "note.subtitles_dropped"),
])  # fmt: skip
def test_mp4_asked_for_says_what_it_lost(
    kind: str, subtitles: list[tuple[str, str]], note: str, upscaler: Upscaler, tmp_path: Path
) -> None:
    make = mkv_with_styled_subtitles if kind == "styled" else mkv_with_picture_subtitles
    source = make(tmp_path / "in.mkv")
    output = tmp_path / "out.mp4"
    result = run(source, output, JobOptions(scale=2, container="mp4"), upscaler)
    out = ffprobe(output)
    assert out["format"]["format_name"].startswith("mov,mp4")
    assert _kinds(out)[1:] == [("audio", "aac"), *subtitles]
    assert _codes(result.notes) == {note}
    dropped = next(n for n in result.notes if n.code == note)
    if note == "note.subtitles_dropped":
        assert dropped.params == {"count": 1, "container": "MP4"}


def test_mkv_output_of_a_plain_clip_is_a_plain_mkv(upscaler: Upscaler, tmp_path: Path) -> None:
    source = mkv_with_styled_subtitles(tmp_path / "in.mkv")
    plain = tmp_path / "plain.mp4"
    strip = ["-map", "0:v", "-map", "0:a", "-c", "copy", str(plain)]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), *strip], check=True, timeout=60)
    output = tmp_path / "out.mkv"
    result = run(plain, output, JobOptions(scale=2, container="mkv"), upscaler)
    assert [k for k, _ in _kinds(ffprobe(output))] == ["video", "audio"]
    assert result.notes == ()


def _cli(*args: str | Path, models_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "adapter", "upscale", *map(str, args), "--models-dir", str(models_dir)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("asked", "written"), [("auto", "mkv"), ("mp4", "mp4")])
def test_cli_auto_turns_the_mp4_name_into_mkv_when_mp4_would_lose(
    asked: str, written: Container, models_dir: Path, tmp_path: Path
) -> None:
    source = mkv_with_picture_subtitles(tmp_path / "in.mkv", seconds=0.4)
    done = _cli(
        source, "-o", tmp_path / "out.mp4", "--container", asked, "--scale", "2", models_dir=models_dir
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.glob("out.*")) == [f"out.{written}"]
    assert f"out.{written}" in done.stderr
    assert ("note: " in done.stderr) is True  # kept in MKV, or the subtitles left out of MP4


def test_cli_refuses_a_name_that_contradicts_the_container(models_dir: Path, tmp_path: Path) -> None:
    source = mkv_with_picture_subtitles(tmp_path / "in.mkv", seconds=0.4)
    done = _cli(source, "-o", tmp_path / "out.mp4", "--container", "mkv", models_dir=models_dir)
    assert done.returncode == 2
    assert "--container mkv needs an output ending in .mkv" in done.stderr
    bad = _cli(source, "-o", tmp_path / "out.avi", models_dir=models_dir)
    assert bad.returncode == 2 and "must be an .mp4, .mkv, .gif or .webp file" in bad.stderr
