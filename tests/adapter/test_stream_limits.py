"""The adapter stops at the limits of what the stream really holds, with a permanent, human error."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from adapter.errors import LimitExceededError, PermanentJobError
from adapter.limits import Limits
from adapter.video import decode as video
from adapter.video.pipeline import run
from contract.catalogue import reason
from contract.messages import JobOptions
from contract.probe import probe
from tests.fixtures.forged import forge_duration, long_mkv, size_jump

SMALL = Limits(max_width=320, max_height=240, max_duration_s=10)


class _Counting:
    """An identity model that counts the frames it is sent."""

    scale, max_batch, in_flight, device = 1, 2, 2, "cpu"

    def __init__(self) -> None:
        self.frames = 0
        self._lock = threading.Lock()

    def infer(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            self.frames += len(batch)
        return batch.copy()

    def close(self) -> None:
        return None


def _refusal(source: Path, tmp_path: Path, model: _Counting) -> PermanentJobError:
    output = tmp_path / "out.mp4"
    with pytest.raises(PermanentJobError) as caught:
        run(source, output, JobOptions(scale=1), model, limits=SMALL)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))) == []
    return caught.value


def test_a_header_forged_long_file_stops_at_the_limit(tmp_path: Path) -> None:
    source = forge_duration(long_mkv(tmp_path / "forged.mkv", seconds=60), 1.0)
    assert probe(source, max_width=320, max_height=240, max_duration_s=10).duration_s == pytest.approx(1.0)
    model = _Counting()
    error = _refusal(source, tmp_path, model)
    assert isinstance(error, LimitExceededError)
    assert error.reason == reason("media.too_long_in_stream", seconds=10, limit_s=10)
    # 10 s at 5 frames/s, plus what was in flight: never the 300 frames the file holds.
    assert 0 < model.frames <= 10 * 5 + 2 * model.max_batch * (model.in_flight + 1)


def test_the_frame_count_has_a_limit_of_its_own(tmp_path: Path) -> None:
    source = long_mkv(tmp_path / "long.mkv", seconds=4)
    info = probe(source, max_width=320, max_height=240, max_duration_s=10)
    decoder = video.Decoder(source, info, limits=video.StreamLimits(320, 240, 10, max_frames=7))
    seen = 0
    with pytest.raises(LimitExceededError) as caught:
        for _ in decoder.frames():
            seen += 1
    decoder.close()
    assert seen == 7 and caught.value.code == "media.too_long_in_stream"


def test_a_frame_beyond_the_size_limit_mid_stream_is_a_human_error(tmp_path: Path) -> None:
    source = size_jump(tmp_path / "jump.ts", first="64x48", then="400x40")
    model = _Counting()
    error = _refusal(source, tmp_path, model)
    assert isinstance(error, LimitExceededError)
    assert error.reason == reason(
        "media.frame_too_large", width=400, height=40, max_width=320, max_height=240
    )
    assert str(error) == "A frame inside the video is 400x40; the limit is 320x240."
    assert error.reason.text("ru") == "Кадр внутри видео имеет размер 400x40; предел — 320x240."


@pytest.mark.parametrize(
    ("then", "inner"), [("96x72", (64, 48)), ("96x24", (64, 16))], ids=["same-aspect", "wider"]
)
def test_a_size_change_within_the_limit_is_fitted_into_the_first_size(
    then: str, inner: tuple[int, int], tmp_path: Path
) -> None:
    source = size_jump(tmp_path / "jump.ts", first="64x48", then=then)
    model = _Counting()
    output = tmp_path / "out.mp4"
    result = run(source, output, JobOptions(scale=1), model, limits=SMALL)
    assert (result.width, result.height) == (64, 48)
    decoder = video.Decoder(output)
    try:
        frames = [rgb for rgb, _pts in decoder.frames()]
    finally:
        decoder.close()
    assert len(frames) == result.frames == model.frames == 20  # 1 s at 10 fps, twice
    last = frames[-1].astype(np.int16)
    assert last.shape == (48, 64, 3)
    pad = (48 - inner[1]) // 2
    if pad:  # letterboxed: black bars above and below the fitted picture, picture in between
        assert last[: pad - 2].mean() <= 10 and last[-(pad - 2) :].mean() <= 10
        assert last[pad + 2 : 48 - pad - 2].mean() > 40


def test_portrait_frames_fit_a_landscape_limit(tmp_path: Path) -> None:
    source = long_mkv(tmp_path / "portrait.mkv", seconds=1, size="48x64")
    model = _Counting()
    result = run(
        source, tmp_path / "out.mp4", JobOptions(scale=1), model, limits=Limits(max_width=64, max_height=48)
    )
    assert result.frames == 5 and model.frames == 5
