"""int8: the QDQ graph NNCF writes, its gate, the repository entry, and its output on a test clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from adapter.inference.upscalers import LocalUpscaler
from contract.precision import BF16_FLAGS, cpu_flags
from model_convertation import builder, calibration, catalog, gate, quantize, repository
from model_convertation.export import export_onnx
from tests.fixtures.media import pair_from_panning, pair_from_testsrc

MODEL = "realesr-animevideov3-x4"
# Export, fine-tuning, quantization and gate: ≈ 25–35 min of one core the first time (the build's own
# recipe, longer than the suite's 600 s a test), then kept (see int8_dir); one worker builds it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("int8"), pytest.mark.timeout(3600)]
#: Where the int8 build is kept between runs: the build's own fingerprints say when it is out of date.
KEPT = Path(__file__).resolve().parents[2] / "var" / "int8"


@pytest.fixture(scope="module")
def int8_dir() -> Path:
    """A folder with the f32 ONNX, its int8 QDQ graph and the gate's verdict, built as `build` builds them."""
    spec = catalog.SERVED[MODEL]
    KEPT.mkdir(parents=True, exist_ok=True)
    f32 = export_onnx(spec, KEPT).path
    int8, verdict = builder.build_int8(spec, f32)
    assert verdict == gate.read_gate(int8) and verdict["recipe"] == quantize.recipe_of(int8)
    assert quantize.quantize(spec, f32) == (int8, False)  # the build's recipe: found up to date
    return KEPT


def test_the_int8_file_is_a_qdq_graph_with_int8_convolutions(int8_dir: Path) -> None:
    graph = onnx.load(str(int8_dir / f"{MODEL}.int8.onnx")).graph
    ops = [node.op_type for node in graph.node]
    convolutions = ops.count("Conv")
    assert ops.count("QuantizeLinear") >= convolutions and ops.count("DequantizeLinear") >= 2 * convolutions
    assert [i.name for i in graph.input] == ["input"] and [o.name for o in graph.output] == ["output"]


@pytest.mark.parametrize("kind", ["graphics", "photo"])
def test_int8_runs_only_where_it_stays_within_the_gate_on_a_test_clip(
    int8_dir: Path, tmp_path: Path, kind: str
) -> None:
    # Both graphs as they are served (OpenVINO); each clip is H.264, shrunk 4x from the reference frames:
    # testsrc2 (saturated bars, a ramp, digits) or a camera panning over a photograph the gate holds out.
    f32 = gate.openvino_runner(int8_dir / f"{MODEL}.onnx")
    int8 = gate.openvino_runner(int8_dir / f"{MODEL}.int8.onnx")
    photo = kind == "photo"
    low, high = (
        pair_from_panning(tmp_path, calibration.picture("chelsea"), 4)
        if photo
        else pair_from_testsrc(tmp_path, 4)
    )
    a, b = f32(low), int8(low)
    assert a.shape == b.shape == high.shape
    drop = np.mean([gate.psnr(x, h) for x, h in zip(a, high, strict=True)]) - np.mean(
        [gate.psnr(y, h) for y, h in zip(b, high, strict=True)]
    )
    # The gate's rules for the kind: BRISQUE judges natural pictures only (it models photographs).
    rise = np.mean([gate.brisque(y) for y in b]) - np.mean([gate.brisque(x) for x in a]) if photo else 0.0
    within = drop <= gate.MAX_PSNR_DROP_DB and rise <= gate.MAX_BRISQUE_RISE
    served = LocalUpscaler(MODEL, int8_dir, precision="int8").choice.precision == "int8"
    # An int8 model out of the gate on a clip must not be the one that runs.
    assert within or not served, (drop, rise)
    assert np.mean([gate.psnr(y, x) for x, y in zip(a, b, strict=True)]) > 15  # the same picture


def test_the_gate_verdict_decides_what_int8_runs(int8_dir: Path, tmp_path: Path) -> None:
    verdict = gate.read_gate(int8_dir / f"{MODEL}.int8.onnx")
    assert verdict is not None and verdict["model"] == MODEL
    limits_kept = (
        verdict["psnr_drop_db"] <= gate.MAX_PSNR_DROP_DB
        and verdict["brisque_rise"] <= gate.MAX_BRISQUE_RISE
        and verdict["new_steps"] == 0
    )
    assert verdict["passed"] is limits_kept
    asked = LocalUpscaler(MODEL, int8_dir, precision="int8")
    native_bf16 = any(flag in cpu_flags() for flag in BF16_FLAGS)
    fallback = "bf16" if native_bf16 else "f32"
    assert asked.choice.precision == ("int8" if limits_kept else fallback), asked.choice.reason
    assert LocalUpscaler(MODEL, int8_dir, precision="f32").choice.precision == "f32"
    # The same files with a failed verdict: the model stays f32/bf16, and says why.
    failed = tmp_path / "failed"
    failed.mkdir()
    for name in (f"{MODEL}.onnx", f"{MODEL}.int8.onnx"):
        (failed / name).symlink_to(int8_dir / name)
    verdict.update(passed=False, failed=["1 new gradient steps"], new_steps=1)
    gate.gate_path(failed / f"{MODEL}.int8.onnx").write_text(json.dumps(verdict))
    refused = LocalUpscaler(MODEL, failed, precision="int8").choice
    assert refused.precision == fallback and "failed the quality gate" in refused.reason


def test_banding_counts_only_new_steps() -> None:
    ramp = np.repeat(np.repeat(np.linspace(100, 110, 80)[None, :, None], 40, 0), 3, 2)
    smooth = np.round(ramp).astype(np.uint8)
    stepped = smooth.copy()
    stepped[:, 40:] = np.clip(stepped[:, 40:].astype(int) + 3, 0, 255).astype(np.uint8)
    assert gate.banding(smooth, smooth, axis=1)["new_steps"] == 0
    assert gate.banding(smooth, stepped, axis=1)["new_steps"] == 1


def grey_ramp(levels: np.ndarray) -> np.ndarray:
    """A 40-row picture whose columns have the given (R, G, B) levels."""
    return np.repeat(levels[None].astype(np.uint8), 40, axis=0)


def test_banding_is_judged_against_the_f32_output_not_the_rounding_of_its_channels() -> None:
    columns = np.arange(80)
    level = 100 + columns // 4  # one code value every 4 columns, as 8-bit output of a slow ramp is
    # f32 raises green a column before red and blue: no single column rises by a whole level of luma.
    f32 = grey_ramp(np.stack([level, 100 + (columns + 1) // 4, level], axis=1))
    exact_grey = grey_ramp(np.stack([level] * 3, axis=1))  # all three in one column: nothing moved
    assert gate.banding(f32, exact_grey, axis=1)["new_steps"] == 0
    held = level.copy()
    held[40:48] = level[39]  # a plateau of 8 columns, then a jump of 3 levels to catch up: banding
    assert gate.banding(f32, grey_ramp(np.stack([held] * 3, axis=1)), axis=1)["new_steps"] == 1


def test_repository_serves_the_int8_variant_only_when_given(int8_dir: Path, tmp_path: Path) -> None:
    spec = catalog.SERVED[MODEL]
    options = repository.ServingOptions(precision="int8")
    f32, int8 = int8_dir / f"{MODEL}.onnx", int8_dir / f"{MODEL}.int8.onnx"
    assert repository.write_cpu_model(spec, f32, tmp_path, options, int8)
    version = tmp_path / MODEL / "1"
    assert (version / "model.int8.onnx").read_bytes() == int8.read_bytes()
    assert json.loads((version / "model.int8.gate.json").read_text())["model"] == MODEL
    assert (
        'key: "precision" value: { string_value: "int8" }' in (tmp_path / MODEL / "config.pbtxt").read_text()
    )
    repository.write_cpu_model(spec, f32, tmp_path, repository.ServingOptions(precision="f32"))
    assert not (version / "model.int8.onnx").exists() and not (version / "model.int8.gate.json").exists()


def test_the_gate_holds_out_saturated_graphics_and_judges_by_the_worst_kind() -> None:
    cases = [case for case in calibration.gate_frames(4) if case.kind == calibration.GRAPHICS]
    assert len(cases) == 1
    high = cases[0].high.astype(int)
    saturated = ((high.max(axis=2) == 255) & (high.min(axis=2) == 0)).mean()
    assert saturated > 0.5, "mostly full-saturation colours, beyond what photographs calibrate"
    assert cases[0].low.shape[1] * 4 == high.shape[1]
    assert calibration.GRAPHICS not in calibration.KINDS, "held out: calibration never sees it"
