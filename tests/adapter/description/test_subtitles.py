"""The description's mux keeps the subtitles (and fonts) its container can carry, described or not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from adapter.description.mux import mux, remux
from adapter.description.placement import Cue
from adapter.description.speech import Speech
from tests.fixtures.media import ffprobe
from tests.fixtures.subtitles import mkv_with_picture_subtitles, mkv_with_styled_subtitles


def _kinds(path: Path) -> list[tuple[str, str]]:
    return [(s["codec_type"], s["codec_name"]) for s in ffprobe(path)["streams"]]


@pytest.mark.parametrize(("described", "make", "output", "expected"), [
    (True, mkv_with_picture_subtitles, "out.mkv", [("subtitle", "hdmv_pgs_subtitle")]),
    (True, mkv_with_styled_subtitles, "out.mkv", [("subtitle", "ass"), ("attachment", "ttf")]),
    (False, mkv_with_styled_subtitles, "out.mp4", [("subtitle", "mov_text")]),
    (False, mkv_with_picture_subtitles, "out.mp4", []),  # MP4 cannot carry pictures
])  # fmt: skip
def test_subtitles_survive_the_description(
    described: bool,
    make: Callable[[Path], Path],
    output: str,
    expected: list[tuple[str, str]],
    tmp_path: Path,
) -> None:
    source = make(tmp_path / "in.mkv")
    out = tmp_path / output
    if described:
        tone = np.sin(np.linspace(0, 200, 11025)).astype(np.float32) * 0.3
        cue = Cue(0.1, 0.6, "Надпись", ducked=False)
        mux(source, out, [cue], [Speech(tone, 22050)], lang="ru", audio_streams=1)
    else:
        remux(source, out)
    kinds = _kinds(out)
    audio = [k for k in kinds if k[0] == "audio"]
    assert len(audio) == (2 if described else 1)
    assert [k for k in kinds if k[0] in ("subtitle", "attachment")] == expected
