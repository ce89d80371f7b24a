"""Strength through the real pipeline (decode → blend at the resize stage → x264): 0, 1 and auto."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from adapter.job import Stages, Toolbox, Work, execute
from adapter.restoration.auto import denoise_for
from adapter.video.pipeline import run
from contract.messages import JobOptions
from contract.models import served_name
from tests.fixtures.media import ClipFactory


class _Negative:
    """A 2x "model" that is easy to tell from a resize: the nearest-neighbour negative of its input."""

    scale, max_batch, in_flight, device = 2, 2, 1, "cpu"

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(255 - batch.repeat(2, axis=1).repeat(2, axis=2))

    def close(self) -> None:
        return None


def _frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_strength_blends_the_model_with_lanczos(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("strength.mp4", seconds=1, audio_tracks=0)
    inputs = _frames(source)
    height, width = inputs.shape[1] * 2, inputs.shape[2] * 2
    plain = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_LANCZOS4) for f in inputs])
    outputs = {}
    for strength in (0.0, 0.5, 1.0):
        target = tmp_path / f"s{strength}.mp4"
        run(source, target, JobOptions(scale=2, strength=strength), _Negative())
        outputs[strength] = _frames(target)
    negative = 255 - plain
    # x264 with 4:2:0 chroma moves these saturated test colours a few levels; the two sides are ~100 apart.
    assert _distance(outputs[0.0], plain) < 6.0 and _distance(outputs[0.0], negative) > 60.0
    assert _distance(outputs[1.0], negative) < 6.0 and _distance(outputs[1.0], plain) > 60.0
    # Half way: every pixel near the mid-grey average of a picture and its negative.
    assert abs(float(outputs[0.5].mean()) - 127.5) < 3.0 and outputs[0.5].std() < 12.0


def test_auto_strength_is_chosen_once_and_noted(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("strength.mp4", seconds=1, audio_tracks=0)
    result = run(source, tmp_path / "auto.mp4", JobOptions(scale=2, strength="auto"), _Negative())
    notes = [note for note in result.notes if note.code == "note.strength_auto"]
    assert len(notes) == 1
    chosen = float(notes[0].params["strength"])
    assert 0.5 <= chosen <= 1.0
    fixed = tmp_path / "fixed.mp4"
    run(source, fixed, JobOptions(scale=2, strength=chosen), _Negative())
    # The same strength on every frame: the auto run equals a run at the strength it reported.
    assert _distance(_frames(tmp_path / "auto.mp4"), _frames(fixed)) < 0.5


def test_denoise_level_for_the_degradation() -> None:
    se, pro = (-1, 0, 1, 2, 3), (-1, 0, 3)
    assert [denoise_for(score, se) for score in (0.0, 0.5, 0.9)] == [-1, 1, 3]
    assert [denoise_for(score, pro) for score in (0.1, 0.5, 1.0)] == [-1, 3, 3]


def test_auto_picks_a_real_cugan_denoise_level_and_notes_it(clip: ClipFactory, tmp_path: Path) -> None:
    """strength=auto on Real-CUGAN without a level: the job asks for the chosen file and says so."""
    asked: list[str] = []

    def upscaler(name: str) -> _Negative:
        asked.append(name)
        return _Negative()

    source = clip("strength.mp4", seconds=1, audio_tracks=0)
    work = Work(
        source,
        tmp_path / "o.mp4",
        None,
        tmp_path / "up.mp4",
        JobOptions(model="realcugan-se-x2", strength="auto"),
    )
    stages = Stages(run, upscaler)
    result = execute(work, stages, Toolbox(stages), lambda p: None, lambda: False)
    notes = {note.code: note.params for note in result.notes}
    level = int(notes["note.denoise_auto"]["level"])
    assert asked == [served_name("realcugan-se-x2", level)]
    assert "note.strength_auto" in notes
