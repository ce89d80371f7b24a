"""Damaged streams keep going: lost pictures are replaced by the last good one, counted, and noted."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from adapter.errors import InvalidInputError
from adapter.limits import Limits
from adapter.video.damage import Damage
from adapter.video.decode import Decoder
from adapter.video.pipeline import run
from contract.messages import JobOptions
from contract.probe import keyframes, probe
from tests.fixtures.damaged import counted_frames, damage, ffmpeg_shown_frames
from tests.fixtures.doubler import PROBE_LIMITS, Doubler
from tests.fixtures.media import ffprobe

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow


def _source(path: Path, *, audio: bool) -> Path:
    """3 s of 320×240 at 25 frames/s, keyframes every second, B-frames (x264's default preset)."""
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac"]
    subprocess.run([*args, "-c:v", "libx264", "-g", "25", str(path)], check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A broadcast TS with 4 KB zeroed at three places, an MKV with 256 bytes zeroed at three places."""
    folder = tmp_path_factory.mktemp("damaged")
    ts = _source(folder / "clean.ts", audio=True)
    mkv = _source(folder / "clean.mkv", audio=False)
    return {
        "ts": damage(ts, folder / "damaged.ts", size=4096, at=(0.3, 0.5, 0.7)),
        "mkv": damage(mkv, folder / "damaged.mkv", size=256, at=(0.3, 0.5, 0.7)),
        "half": damage(ts, folder / "half.ts", size=8192, at=tuple(i / 20 for i in range(1, 20, 2))),
    }


@pytest.mark.parametrize("kind", ["ts", "mkv"])
def test_a_damaged_file_ends_done_with_the_note_and_the_frames_a_player_shows(
    kind: str, damaged: dict[str, Path], tmp_path: Path
) -> None:
    source = damaged[kind]
    out = tmp_path / "out.mp4"
    result = run(source, out, JobOptions(), Doubler(), limits=Limits())
    shown = ffmpeg_shown_frames(source)
    assert abs(counted_frames(out) - shown) <= 1 and result.frames == counted_frames(out)
    notes = {note.code: note.params for note in result.notes}
    assert 0 < result.damaged <= 0.2 * result.frames
    assert notes["note.frames_damaged"] == {"lost": result.damaged, "total": result.frames}
    russian = next(n for n in result.notes if n.code == "note.frames_damaged").text("ru")
    assert russian == f"Повреждено {result.damaged} кадров из {result.frames}: заменены соседними."
    # Timing kept: the video lasts what the source's does (±1 frame), so sound stays in sync.
    video = next(s for s in ffprobe(out)["streams"] if s["codec_type"] == "video")
    assert abs(float(video["duration"]) - 3.0) <= 0.04 + 1e-3


def test_half_a_file_damaged_fails_with_the_count(damaged: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as failed:
        run(damaged["half"], tmp_path / "out.mp4", JobOptions(), Doubler(), limits=Limits())
    why = failed.value.reason
    assert why.code == "media.too_damaged" and why.params["limit"] == 20
    assert int(why.params["lost"]) > 0.2 * int(why.params["total"])
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_the_share_is_a_setting(damaged: dict[str, Path], tmp_path: Path) -> None:
    strict = Limits(max_damaged_share=0.0)
    with pytest.raises(InvalidInputError, match="at most 0 %"):
        run(damaged["ts"], tmp_path / "out.mp4", JobOptions(), Doubler(), limits=strict)


def test_segments_apply_the_same_rule_and_add_up(damaged: dict[str, Path]) -> None:
    source = damaged["ts"]
    info = probe(source, **PROBE_LIMITS)  # type: ignore[arg-type]
    keys = keyframes(source)
    bounds = [(None, keys[1]), (keys[1], None)]
    parts = []
    for start, end in bounds:
        decoder = Decoder(source, info)
        parts.append((sum(1 for _ in decoder.frames(start, end)), decoder.damage.lost))
        decoder.close()
    whole = Decoder(source, info)
    frames = sum(1 for _ in whole.frames())
    assert sum(count for count, _ in parts) == frames == ffmpeg_shown_frames(source)
    assert sum(lost for _, lost in parts) == whole.damage.lost > 0


def test_a_clean_variable_rate_stream_is_left_as_it_is(tmp_path: Path) -> None:
    source = tmp_path / "vfr.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=2"),
            *("-vf", "select='lt(mod(n\\,10)\\,7)'", "-fps_mode", "vfr", "-c:v", "libx264", str(source)),
        ],
        check=True,
        timeout=60,
    )
    decoder = Decoder(source, probe(source, **PROBE_LIMITS))  # type: ignore[arg-type]
    assert sum(1 for _ in decoder.frames()) == 35 and decoder.damage.lost == 0


def test_holes_are_filled_only_after_evidence_of_damage() -> None:
    rule = Damage()
    assert list(rule.missing(0, 4000, step=Fraction(1000))) == []  # variable frame rate, not loss
    rule.evidence += 1
    assert list(rule.missing(0, 4000, step=Fraction(1000))) == [1000, 2000, 3000] and rule.lost == 3
    assert list(rule.missing(4000, 5400, step=Fraction(1000))) == []  # a late timestamp is not a lost picture
