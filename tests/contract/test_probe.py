"""contract.probe on real clips and hostile files: facts, limits, refusals."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

from contract.mediainfo import MediaInfo, ProbeError
from contract.probe import _run_ffprobe, probe
from tests.fixtures.media import ClipFactory

LIMITS = {"max_width": 3840, "max_height": 2160, "max_duration_s": 7200.0}


def _probe(path: Path, **overrides: float) -> MediaInfo:
    return probe(path, **{**LIMITS, **overrides})  # type: ignore[arg-type]


def test_facts_of_a_plain_clip(clip: ClipFactory) -> None:
    info = _probe(clip("cfr2997.mp4", rate="30000/1001", audio_tracks=2, subtitles=True))
    assert (info.width, info.height, info.rotation) == (176, 144, 0)
    assert info.fps == Fraction(30000, 1001) and isinstance(info.time_base, Fraction)
    assert info.frames == 30 and info.frames_exact
    assert abs(info.duration_s - 1.0) < 0.05
    assert (info.audio_streams, info.subtitle_streams, info.has_audio) == (2, 1, True)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and "mp4" in info.format_name


def test_rotation_swaps_display_size(clip: ClipFactory) -> None:
    info = _probe(clip("rotated.mp4", rotate=90))
    assert info.rotation in (90, 270)
    assert (info.frame_width, info.frame_height, info.width, info.height) == (176, 144, 144, 176)


def test_colour_tags_and_silence(clip: ClipFactory) -> None:
    info = _probe(clip("tagged.mp4", colour="bt709", color_range="pc", pix_fmt="yuvj420p", audio_tracks=0))
    assert (info.color_space, info.color_primaries, info.color_transfer, info.color_range) == (
        "bt709",
        "bt709",
        "bt709",
        "pc",
    )
    assert not info.has_audio


def test_limits(clip: ClipFactory) -> None:
    source = clip("cfr25.mp4")
    for overrides, words in (({"max_width": 100}, "limit is 100x2160"), ({"max_duration_s": 0.5}, "lasts")):
        with pytest.raises(ProbeError, match=words) as caught:
            _probe(source, **overrides)
        assert caught.value.kind == "too_large"
    # Orientation does not matter: a portrait video fits a landscape limit.
    assert _probe(clip("rotated.mp4", rotate=90), max_width=176, max_height=144).height == 176


def test_odd_file_names_are_never_urls_or_options(clip: ClipFactory, tmp_path: Path) -> None:
    for name in ("-i.mp4", "http:evil.mp4", "a b;c.mp4"):
        target = tmp_path / name
        target.write_bytes(clip("cfr25.mp4").read_bytes())
        assert _probe(target).frames == 25


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"", "not_video"),
        (b"just some text, renamed to .mp4\n", "not_video"),
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200, "corrupt"),
    ],
)
def test_refusals(content: bytes, kind: str, tmp_path: Path) -> None:
    target = tmp_path / "input.mp4"
    target.write_bytes(content)
    with pytest.raises(ProbeError) as caught:
        _probe(target)
    assert caught.value.kind == kind and isinstance(caught.value, ValueError)
    assert str(caught.value.reason) and "\n" not in str(caught.value.reason)


def test_truncated_video_is_corrupt(clip: ClipFactory, tmp_path: Path) -> None:
    target = tmp_path / "cut.mp4"
    target.write_bytes(clip("cfr25.mp4").read_bytes()[:2000])
    with pytest.raises(ProbeError) as caught:
        _probe(target)
    assert caught.value.kind == "corrupt"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        _probe(tmp_path / "nothing.mp4")
    assert caught.value.kind == "not_video"


@pytest.fixture
def playlist(tmp_path: Path) -> Path:
    """An HLS playlist named .mp4 whose segment is a FIFO: opening the segment would block until a timeout."""
    segment = tmp_path / "segment.ts"
    os.mkfifo(segment)
    target = tmp_path / "upload.mp4"
    target.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n")
    return target


def test_playlist_disguised_as_mp4_is_refused_unread(playlist: Path) -> None:
    # A reader that followed the playlist would block on the FIFO segment and time out (MediaTimeout).
    with pytest.raises(ProbeError) as caught:
        probe(playlist, **LIMITS, timeout_s=5)  # type: ignore[arg-type]
    assert caught.value.kind == "unsupported"


def test_ffprobe_format_allow_list_refuses_playlists_by_itself(playlist: Path) -> None:
    # The second line of defence, without the byte sniffing in probe(): refused before any segment opens
    # (following it would block on the FIFO until the time limit: MediaTimeout, not a refusal).
    with pytest.raises(ProbeError) as caught:
        _run_ffprobe(playlist, timeout_s=5)
    assert caught.value.kind == "unsupported"
