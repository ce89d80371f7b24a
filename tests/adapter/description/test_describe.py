"""End to end on a real clip: tracks and flags, cue timing against the spoken audio, the CLI."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapter.description import DescriptionResult, describe
from adapter.description.audio import silences
from adapter.description.cli import main
from adapter.description.placement import GAP_S
from tests.fixtures.description import SHOT_S, SHOTS
from tests.fixtures.media import make_clip

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

_VTT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)")


def _streams(path: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
        text=True,
    )
    streams: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return streams


def _vtt_times(path: Path) -> list[tuple[float, float]]:
    times = []
    for match in _VTT_TIME.finditer(path.read_text(encoding="utf-8")):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(v) for v in match.groups())
        # Rounded like the VTT itself: 3 + 647 / 1000 is 3.6470000000000002 in floating point.
        start = round(h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, 3)
        times.append((start, round(h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, 3)))
    return times


def _check_cues(result: DescriptionResult) -> None:
    assert len(result.scenes) == len(SHOTS)
    for scene, expected in zip(result.scenes, range(len(SHOTS)), strict=True):
        assert abs(scene.start - expected * SHOT_S) < 0.1
    assert len(result.cues) == len(SHOTS)  # each shot shows something new
    for before, after in itertools.pairwise(result.cues):
        assert after.start >= before.end + GAP_S - 1e-6
    for cue, scene in zip(result.cues, result.scenes, strict=True):
        assert scene.start <= cue.start < scene.end
        assert not cue.ducked  # the clip leaves a pause after the dialogue of every shot


@pytest.fixture(scope="module")
def russian(
    scene_clip: Path, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> DescriptionResult:
    progress: list[float] = []
    out = tmp_path_factory.mktemp("ru") / "described.mp4"
    result = describe(scene_clip, out, lang="ru", on_progress=progress.append)
    assert progress[-1] == 1.0 and progress == sorted(progress)
    return result


def test_output_keeps_the_original_and_adds_a_flagged_russian_track(
    scene_clip: Path, russian: DescriptionResult
) -> None:
    original = [s for s in _streams(scene_clip) if s["codec_type"] == "audio"]
    streams = _streams(russian.output_path)
    video = [s for s in streams if s["codec_type"] == "video"]
    audio = [s for s in streams if s["codec_type"] == "audio"]
    assert len(video) == 1 and video[0]["codec_name"] == "h264"
    assert len(audio) == 2
    kept, described = audio
    assert kept["codec_name"] == original[0]["codec_name"]
    assert kept["disposition"]["visual_impaired"] == 0 and kept["disposition"]["default"] == 1
    assert described["tags"]["language"] == "rus"
    assert described["disposition"]["visual_impaired"] == 1
    assert described["disposition"]["descriptions"] == 1
    assert described["disposition"]["default"] == 0
    assert described["tags"].get("handler_name") == "Тифлокомментарий"


def test_russian_cues_name_the_shots_and_fit_the_pauses(russian: DescriptionResult) -> None:
    _check_cues(russian)
    texts = [c.text for c in russian.cues]
    assert russian.vtt_path is not None
    assert "человек" in texts[0] and "кошка" in texts[1] and "чашка" in texts[2]
    assert _vtt_times(russian.vtt_path) == [(round(c.start, 3), round(c.end, 3)) for c in russian.cues]
    assert russian.vtt_path.read_text(encoding="utf-8").startswith("WEBVTT\n")


def test_cli_writes_english_speech_track_whose_onsets_match_the_vtt(
    scene_clip: Path, model_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "described.mp4"
    assert main([str(scene_clip), "-o", str(out), "--lang", "en", "--track", "speech"]) == 0
    described = [s for s in _streams(out) if s["codec_type"] == "audio"][-1]
    assert described["tags"]["language"] == "eng"
    assert described["disposition"]["visual_impaired"] == 1
    assert described["disposition"]["descriptions"] == 1
    cues = _vtt_times(out.with_suffix(".vtt"))
    assert len(cues) == len(SHOTS)
    # The speech-only track is silent between descriptions: every sound onset is a cue start.
    duration = float(described.get("duration") or SHOT_S * len(SHOTS))
    quiet = silences(out, duration, stream=1, noise_db=-40, min_s=0.3)
    onsets = [end for _start, end in quiet if end < duration - 0.05]
    assert len(onsets) == len(cues)
    for (start, _end), onset in zip(cues, onsets, strict=True):
        assert abs(onset - start) <= 0.1, (onset, start)


def test_cli_refuses_what_is_not_a_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("hello")
    assert main([str(bogus), "-o", str(tmp_path / "out.mp4"), "--lang", "ru"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "out.mp4").exists()


def test_continuous_music_is_ducked_under_the_description(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "music.mp4", seconds=3, gop=None, frequency=330)
    calls: list[tuple[int, ...]] = []

    def caption(frame: Any) -> str:
        calls.append(frame.shape)
        return "A test pattern."

    result = describe(clip, tmp_path / "out.mp4", lang="en", describer=caption)
    assert calls == [(144, 176, 3)]
    assert [(c.text, c.ducked, c.start) for c in result.cues] == [("A test pattern.", True, 0.0)]
    audio = [s for s in _streams(result.output_path) if s["codec_type"] == "audio"]
    assert len(audio) == 2 and audio[1]["tags"]["language"] == "eng"
