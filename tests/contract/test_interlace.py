"""Field detection: idet's counts, the decision rule against the flag, and idet on real files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from contract.interlace import (
    SAMPLE_FRAMES,
    WINDOWS,
    FieldCounts,
    FieldVotes,
    count_fields,
    decide,
    parse_idet,
    resolve,
    windows,
)

IDET_LOG = """
[Parsed_idet_0 @ 0x55] Repeated Fields: Neither:    50 Top:     0 Bottom:     0
[Parsed_idet_0 @ 0x55] Single frame detection: TFF:    40 BFF:     0 Progressive:     2 Undetermined:     8
[Parsed_idet_0 @ 0x55] Multi frame detection: TFF:    50 BFF:     0 Progressive:     0 Undetermined:     0
[Parsed_idet_1 @ 0x5b] Multi frame detection: TFF:    47 BFF:     1 Progressive:     0 Undetermined:     2
"""


def test_parse_idet_reads_both_filters_multi_frame_lines() -> None:
    assert parse_idet(IDET_LOG) == FieldVotes(FieldCounts(50, 0, 0, 0), FieldCounts(47, 1, 0, 2))
    assert parse_idet("nothing here") == FieldVotes()


def test_parse_idet_sums_each_filter_over_the_graphs_of_a_size_change() -> None:
    # A frame size change mid-stream rebuilds the graph: every filter logs once more (chaos test_limits).
    again = IDET_LOG.replace("0x55", "0x77").replace("0x5b", "0x7b")
    assert parse_idet(IDET_LOG + again) == FieldVotes(FieldCounts(100, 0, 0, 0), FieldCounts(94, 2, 0, 4))


def _votes(default: FieldCounts, strict: FieldCounts | None = None) -> FieldVotes:
    return FieldVotes(default, strict or FieldCounts(undetermined=default.total))


@pytest.mark.parametrize(
    ("flag", "votes", "parity"),
    [
        # Combing baked into "progressive" frames: the strict count agrees, so the flag is overruled.
        ("progressive", _votes(FieldCounts(tff=50), FieldCounts(tff=45, undetermined=5)), "tff"),
        # Very sharp progressive video fools only the default threshold: the flag stands.
        ("progressive", _votes(FieldCounts(tff=50), FieldCounts(undetermined=50)), None),
        ("tt", _votes(FieldCounts(progressive=48, undetermined=2)), None),  # film content flagged interlaced
        ("bb", _votes(FieldCounts(undetermined=50)), "bff"),  # idet can't tell (static): the flag decides
        # No flag: like "progressive", only the strict count overrules it.
        (None, _votes(FieldCounts(bff=25), FieldCounts(tff=3, bff=20, progressive=2)), "bff"),
        (None, _votes(FieldCounts(tff=50)), None),
        (None, _votes(FieldCounts(), FieldCounts(tff=2, progressive=1, undetermined=97)), None),  # unsure
        ("tb", FieldVotes(), "tff"),  # no counts at all (idet failed): the flag
    ],
)
def test_idet_decides_where_it_is_sure_and_the_flag_elsewhere(
    flag: str | None, votes: FieldVotes, parity: str | None
) -> None:
    assert decide(flag, votes) == parity


def test_resolve_maps_the_option_to_a_mode() -> None:
    interlaced, progressive = _votes(FieldCounts(tff=50)), _votes(FieldCounts(progressive=50))
    assert resolve("auto", "tt", interlaced) == ("field", "tff")
    assert resolve("auto", "tt", progressive) == ("off", None)
    assert resolve("off", "tt", interlaced) == ("off", None)
    assert resolve("frame", "tt", interlaced) == ("frame", "tff")
    assert resolve("field", None, progressive) == ("field", None)  # forced: bwdif reads each frame's flags


def test_windows_spread_over_long_files_only() -> None:
    assert windows(2.0, 25) == [0.0]
    assert windows(100.0, 25) == [0.0, 25.0, 50.0, 75.0]
    assert len(windows(3600, 60)) == WINDOWS and SAMPLE_FRAMES // WINDOWS == 50


def _clip(path: Path, *filters: str, rate: int = 25) -> Path:
    chain = ",".join(filters) if filters else "null"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=176x144:rate={rate}", "-t", "2", "-vf", chain,
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def test_idet_finds_combing_in_progressive_frames_and_not_in_sharp_progressive_video(tmp_path: Path) -> None:
    sharp = count_fields(_clip(tmp_path / "prog.mp4"), 2.0, 25, timeout_s=60)
    # The strict threshold matters: at idet's default this progressive clip counts as interlaced.
    assert sharp.default.tff >= 0.5 * sharp.default.total == 25
    assert sharp.strict.tff + sharp.strict.bff <= 0.1 * sharp.strict.total
    assert decide("progressive", sharp) is None
    baked = _clip(tmp_path / "baked.mp4", "tinterlace=mode=interleave_top", rate=50)
    combed = count_fields(baked, 2.0, 25, timeout_s=60)
    assert combed.strict.tff >= 0.8 * combed.strict.total
    assert decide("progressive", combed) == "tff"


def test_idet_logs_of_several_windows_sum_by_threshold() -> None:
    line = "[Parsed_idet_{} @ 0x5] Multi frame detection: TFF: {} BFF: 0 Progressive: {} Undetermined: 1\n"
    # Two windows in one graph (after a scale filter numbered 0): default, strict, default, strict.
    logs = [(1, 5, 2), (2, 0, 6), (3, 7, 1), (4, 1, 4)]
    stderr = "".join(line.format(i, tff, prog) for i, tff, prog in logs)
    votes = parse_idet(stderr)
    assert votes.default == FieldCounts(tff=12, bff=0, progressive=3, undetermined=2)
    assert votes.strict == FieldCounts(tff=1, bff=0, progressive=10, undetermined=2)
