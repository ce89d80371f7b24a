"""Animated GIF, APNG and WebP in: per-frame delays as timestamps, transparency on a background or kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from adapter.limits import Limits
from adapter.video.pipeline import run
from contract.mediainfo import ProbeError
from contract.messages import JobOptions
from contract.probe import probe
from tests.fixtures.animated import DELAYS_MS, make_animation
from tests.fixtures.doubler import PROBE_LIMITS, Doubler


@pytest.fixture(scope="module")
def animations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("animations")
    return {kind: make_animation(folder / f"source.{kind}", kind) for kind in ("gif", "apng", "webp")}


def _delays(path: Path) -> tuple[str, list[int]]:
    """An animated output's mode and per-picture delays (ms), read back with Pillow."""
    with Image.open(path) as image:
        found = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            found.append(int(image.info["duration"]))
        return image.mode, found


def _video_times(path: Path) -> tuple[list[float], float]:
    """The video's picture times (s) and its stream duration."""
    with av.open(str(path)) as opened:
        stream = opened.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        base = stream.time_base
        times = [float(p.pts * base) for p in opened.demux(stream) if p.pts is not None]
        return sorted(times), float(stream.duration * stream.time_base)


def _source_delays(path: Path, kind: str) -> list[int]:
    info = probe(path, **PROBE_LIMITS)  # type: ignore[arg-type]
    assert info.format_name == kind and info.frames_exact
    from contract.animation import describe

    return list(describe(path, kind).delays_ms)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["gif", "apng", "webp"])
def test_delays_become_timestamps_in_mp4(kind: str, animations: dict[str, Path], tmp_path: Path) -> None:
    source = animations[kind]
    delays = _source_delays(source, kind)
    if kind != "webp":  # ffmpeg's WebP writer merges repeated pictures, so its delays differ
        assert tuple(delays) == DELAYS_MS
    out = tmp_path / "out.mp4"
    result = run(source, out, JobOptions(), Doubler(), limits=Limits())
    times, lasts = _video_times(out)
    starts = [sum(delays[:i]) / 1000 for i in range(len(delays))]
    assert result.frames == len(delays) and np.allclose(times, starts, atol=0.002)
    assert abs(lasts - sum(delays) / 1000) <= delays[-1] / 1000  # ±1 frame
    codes = [note.code for note in result.notes]
    assert ("note.alpha_flattened" in codes) == (kind != "webp")


def test_transparency_lies_on_the_chosen_background(animations: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "red.mp4"
    result = run(animations["gif"], out, JobOptions(background="#ff0000"), Doubler(), limits=Limits())
    with av.open(str(out)) as opened:
        first = next(opened.decode(video=0)).to_ndarray(format="rgb24")
    left = first[:, : first.shape[1] // 2 - 8].reshape(-1, 3).mean(axis=0)
    assert left[0] > 200 and left[1] < 40 and left[2] < 40  # red (within x264's rounding)
    assert [n.params for n in result.notes if n.code == "note.alpha_on_colour"] == [{"colour": "#ff0000"}]


@pytest.mark.parametrize("container", ["gif", "webp"])
@pytest.mark.parametrize("kind", ["gif", "apng"])
def test_back_to_an_animation_keeps_delays_and_transparency(
    kind: str, container: str, animations: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / f"out.{container}"
    options = JobOptions.model_validate({"container": container})
    result = run(animations[kind], out, options, Doubler(), limits=Limits())
    mode, delays = _delays(out)
    assert mode == "RGBA" and len(delays) == len(DELAYS_MS) == result.frames
    assert delays[:-1] == list(DELAYS_MS[:-1]) and abs(delays[-1] - DELAYS_MS[-1]) <= DELAYS_MS[-1]
    with Image.open(out) as image:
        rgba = np.asarray(image.convert("RGBA"))
    assert rgba.shape[:2] == (192, 256)  # the model's ×4 by default
    assert rgba[:, :120, 3].max() == 0 and rgba[:, 136:, 3].min() == 255  # the left half stays transparent
    assert "note.alpha_flattened" not in [n.code for n in result.notes]


def test_a_gif_named_as_a_video_is_judged_by_its_content(animations: dict[str, Path], tmp_path: Path) -> None:
    disguised = tmp_path / "holiday.mp4"
    shutil.copy(animations["gif"], disguised)
    info = probe(disguised, **PROBE_LIMITS)  # type: ignore[arg-type]
    assert (info.format_name, info.frames, info.pix_fmt) == ("gif", len(DELAYS_MS), "rgba")
    assert info.duration_s == pytest.approx(sum(DELAYS_MS) / 1000)


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_a_still_picture_is_refused_with_a_code(suffix: str, tmp_path: Path) -> None:
    still = tmp_path / f"still{suffix}"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(still)
    with pytest.raises(ProbeError) as refused:
        probe(still, **PROBE_LIMITS)  # type: ignore[arg-type]
    assert (refused.value.kind, refused.value.code) == ("not_video", "media.still_image")
