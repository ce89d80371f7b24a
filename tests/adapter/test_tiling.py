"""Calls sized to the memory free: fewer pictures per call first, smaller tiles only when one does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from adapter.inference import tiling, upscalers
from adapter.inference.tiling import (
    BYTES_PER_PIXEL,
    available_memory,
    bytes_per_pixel,
    fit_tile,
    least_tile,
    per_call,
    pixel_budget,
)
from adapter.inference.upscalers import TiledUpscaler, make_upscaler
from contract.models import MODELS
from tests.fixtures.frames import assert_same_frames

GIB = 1 << 30


class _Repeat:
    """A ×2 model by pixel repetition that records the shape of every call (an ``Upscaler``)."""

    scale, max_batch, in_flight, device = 2, 4, 1, "cpu"

    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        self.calls.append(batch.shape)
        return np.repeat(np.repeat(batch, 2, axis=1), 2, axis=2)

    def close(self) -> None:
        pass


def _frames(n: int, h: int, w: int) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(7).integers(0, 256, (n, h, w, 3), np.uint8)


def test_every_model_has_its_measured_memory_and_denoise_files_share_it() -> None:
    assert set(BYTES_PER_PIXEL) == set(MODELS), "every model of the catalogue is measured"
    assert all(value > 0 for value in BYTES_PER_PIXEL.values()), BYTES_PER_PIXEL
    assert bytes_per_pixel("realcugan-se-x2-denoise3x") == BYTES_PER_PIXEL["realcugan-se-x2"]
    assert bytes_per_pixel("realesrgan-x4plus-anime") == BYTES_PER_PIXEL["realesrgan-x4plus-anime"]
    assert bytes_per_pixel("some-new-model") == max(BYTES_PER_PIXEL.values()), "unknown counts as heaviest"


def test_the_tile_shrinks_only_when_one_tile_does_not_fit() -> None:
    assert fit_tile(512, 10**9, least=96) == 512, "plenty of memory keeps the configured tile"
    assert fit_tile(512, 300 * 300, least=96) == 288, "one tile of the budget, a multiple of 16"
    assert fit_tile(512, 10, least=96) == 96, "never below the least useful tile"
    # The least tile keeps a centre beyond the model's field on both sides.
    assert least_tile("realesrgan-x4plus") > 2 * 82 and least_tile("realesr-animevideov3-x4") > 2 * 16


def test_a_call_takes_as_many_pictures_as_fit_from_one_to_the_batch() -> None:
    assert per_call(100, 10**9, most=8) == 8
    assert per_call(100, 350, most=8) == 3
    assert per_call(100, 50, most=8) == 1, "a picture over the budget still goes, alone"


def test_the_budget_splits_the_memory_share_between_calls_in_flight() -> None:
    one = pixel_budget("realesrgan-x4plus", 8 * GIB)
    assert one == int(8 * GIB * tiling.MEMORY_SHARE / BYTES_PER_PIXEL["realesrgan-x4plus"])
    assert pixel_budget("realesrgan-x4plus", 8 * GIB, in_flight=2) == one // 2


def test_a_containers_limit_counts_before_the_hosts_free_memory(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   10485760 kB\n")
    v2 = (tmp_path / "memory.max", tmp_path / "memory.current")
    v2[0].write_text(f"{2 * GIB}\n")
    v2[1].write_text(f"{GIB // 2}\n")
    assert available_memory(meminfo, (v2,)) == 2 * GIB - GIB // 2
    v2[0].write_text("max\n")
    assert available_memory(meminfo, (v2,)) == 10 * GIB, "no limit: the host's MemAvailable"
    assert available_memory(meminfo, ((tmp_path / "none", tmp_path / "none2"),)) == 10 * GIB
    assert available_memory(tmp_path / "missing", ()) > 1 << 60, "nothing readable: no bound known"


def test_a_small_budget_sends_whole_frames_in_smaller_calls_with_the_same_result() -> None:
    frames = _frames(4, 32, 32)
    inner = _Repeat()
    out = TiledUpscaler(inner, tile=64, overlap=8, budget=2 * 32 * 32).infer(frames)
    assert [shape[0] for shape in inner.calls] == [2, 2]
    assert np.array_equal(out, _Repeat().infer(frames))


def test_a_small_budget_sends_tiles_one_per_call_with_the_same_result() -> None:
    frames = _frames(1, 100, 100)
    roomy, tight = _Repeat(), _Repeat()
    want = TiledUpscaler(roomy, tile=64, overlap=8).infer(frames)
    got = TiledUpscaler(tight, tile=64, overlap=8, budget=64 * 64).infer(frames)
    assert roomy.calls[0][0] == 4 and all(shape[0] == 1 for shape in tight.calls)
    assert np.array_equal(got, want) and np.array_equal(got, _Repeat().infer(frames))


def test_the_real_model_in_little_memory_tiles_and_matches_the_whole_frame(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = "realesr-animevideov3-x4"
    frames = np.ascontiguousarray(_frames(1, 120, 160) // 32 * 32)  # flat areas and edges, like drawings
    roomy = make_upscaler(model, None, models_dir)
    assert isinstance(roomy, TiledUpscaler) and roomy.tile == 512
    # As if a container had ~128 one-tile calls' worth of memory left: the tile shrinks to what fits.
    little = least_tile(model) ** 2 * BYTES_PER_PIXEL[model] / tiling.MEMORY_SHARE
    monkeypatch.setattr(upscalers, "available_memory", lambda: int(little))
    tight = make_upscaler(model, None, models_dir)
    assert isinstance(tight, TiledUpscaler) and tight.tile == least_tile(model) < 120
    assert tight._per_call(tight.tile**2) == 1
    assert_same_frames(tight.infer(frames)[:, 64:-64, 64:-64], roomy.infer(frames)[:, 64:-64, 64:-64])
