"""contract.stream: what a video really holds, counted by demuxing, against what its header claims."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from contract.catalogue import reason
from contract.mediainfo import ProbeError
from contract.probe import probe
from contract.stream import count_packets, counted_info
from tests.fixtures.forged import forge_duration, long_mkv, unbounded_webm

LIMITS = {"max_width": 3840, "max_height": 2160}


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MKV holding 60 s (300 frames) whose header says it lasts 1 s."""
    return forge_duration(long_mkv(tmp_path_factory.mktemp("forged") / "forged.mkv", seconds=60), 1.0)


def test_the_header_lies_and_the_count_does_not(forged: Path) -> None:
    info = probe(forged, **LIMITS, max_duration_s=10)
    assert info.duration_s == pytest.approx(1.0)  # the probe alone believes the header
    count = count_packets(forged, timeout_s=30, max_duration_s=7200)
    assert (count.duration, count.packets, count.exceeded) == (Fraction(60), 300, False)


def test_counting_stops_just_past_the_limit(forged: Path) -> None:
    count = count_packets(forged, timeout_s=30, max_duration_s=10)
    assert count.exceeded
    # Stopped at the first packet past 10 s (5 frames/s): never demuxed to the end.
    assert Fraction(10) < count.duration <= Fraction(10) + Fraction(1, 5)
    assert count.packets == 51


def test_a_forged_file_is_refused_with_a_human_reason(forged: Path) -> None:
    info = probe(forged, **LIMITS, max_duration_s=10)
    with pytest.raises(ProbeError) as caught:
        counted_info(forged, info, max_duration_s=10, timeout_s=30)
    assert caught.value.kind == "too_large"
    assert caught.value.reason == reason("media.too_long_in_stream", seconds=10, limit_s=10)
    assert "предел — 10 с" in caught.value.reason.text("ru")


def test_within_the_limit_the_counted_figures_replace_the_header(forged: Path) -> None:
    info = counted_info(
        forged, probe(forged, **LIMITS, max_duration_s=7200), max_duration_s=7200, timeout_s=30
    )
    assert (info.duration_s, info.frames) == (60.0, 300)


def test_a_header_without_duration_is_counted(tmp_path: Path) -> None:
    source = unbounded_webm(tmp_path / "recorded.webm", seconds=3)
    info = probe(source, **LIMITS, max_duration_s=7200)
    assert (info.duration_s, info.frames) == (3.0, 15)
    with pytest.raises(ProbeError) as caught:
        probe(source, **LIMITS, max_duration_s=2)
    assert caught.value.reason.code == "media.too_long_in_stream"


def test_counting_has_a_time_limit(forged: Path) -> None:
    from contract.media import MediaTimeout

    with pytest.raises(MediaTimeout):
        count_packets(forged, timeout_s=-1, max_duration_s=7200)


def test_a_file_that_is_not_a_video_is_a_probe_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 64)
    with pytest.raises(ProbeError):
        count_packets(junk, timeout_s=10, max_duration_s=7200)
