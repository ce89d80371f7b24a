"""Quantization-aware fine-tuning: it rounds as the served graph does; the build asks for it where it runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from contract.precision import INT8_GATE_PASSED
from model_convertation import builder, calibration, catalog, qat, quantize


def tiny_network() -> nn.Sequential:
    """Three convolutions with PReLUs between them, like the compact network's body."""
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 1, 1), nn.PReLU(8), nn.Conv2d(8, 8, 3, 1, 1), nn.PReLU(8), nn.Conv2d(8, 3, 3, 1, 1)
    ).eval()


def export(network: nn.Module, path: Path) -> Path:
    """A float NCHW graph with dynamic height and width."""
    torch.onnx.export(
        network,
        (torch.zeros(1, 3, 8, 8),),
        str(path),
        input_names=["input"],
        output_names=["output"],
        opset_version=17,
        dynamic_axes={"input": {2: "H", 3: "W"}},
        dynamo=False,
    )
    return path


def test_the_learned_grids_are_what_the_served_graph_rounds_with(tmp_path: Path) -> None:
    import openvino as ov

    network = tiny_network()
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (1, 3, 16, 16)).astype(np.float32) / 255 for _ in range(4)]
    quantized = quantize._post_training(onnx.load(str(export(network, tmp_path / "f32.onnx"))), frames,
                                        bias_correction=False)  # fmt: skip
    grids = [qat.Grid(1 / 255, 0), qat.Grid(0.011, 37), qat.Grid(0.02, 90)]
    # The same network with each convolution rounded the way fine-tuning rounds it.
    rounded = tiny_network()
    roundings = []
    for index, grid in zip((0, 2, 4), grids, strict=True):
        low, high = -grid.zero_point * grid.scale, (qat.LEVELS - grid.zero_point) * grid.scale
        fake = qat.FakeQuantConv(rounded[index], low, high, first=index == 0)  # type: ignore[arg-type]
        rounded[index] = fake
        roundings.append(fake.rounding())
        learned = roundings[-1].grid
        assert learned.zero_point == grid.zero_point and abs(learned.scale - grid.scale) < 1e-7
    quantize._set_rounding(quantized, roundings)
    onnx.save(quantized, str(tmp_path / "int8.onnx"))
    compiled = ov.Core().compile_model(
        str(tmp_path / "int8.onnx"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    picture = rng.integers(0, 256, (1, 3, 24, 24)).astype(np.float32) / 255
    served = compiled.create_infer_request().infer({0: picture})[0]
    with torch.no_grad():
        trained = rounded(torch.from_numpy(picture)).numpy()
        plain = network(torch.from_numpy(picture)).numpy()
    spread = float(np.abs(plain).max())
    assert np.abs(served - trained).max() < 1e-3 * spread  # the same rounding, up to float sums
    assert np.abs(served - plain).max() > 1e-2 * spread  # and rounding there is (this test can fail)


def test_the_build_quantizes_under_auto_only_where_int8_would_run() -> None:
    spec = catalog.SERVED["realesr-animevideov3-x4"]
    assert builder.wants_int8(spec, "int8", {"avx512_bf16"})  # asked for: always
    assert not builder.wants_int8(spec, "f32", {"avx2"})
    gated = INT8_GATE_PASSED.get(spec.name, False)
    assert builder.wants_int8(spec, "auto", {"avx2", "avx512_vnni"}) is gated  # no bf16: int8 where it passed
    assert not builder.wants_int8(spec, "auto", {"avx2", "amx_bf16"})  # native bf16 runs bf16 instead


def test_ramps_and_graphics_for_fine_tuning() -> None:
    rng = np.random.default_rng(0)
    along_columns = calibration.ramp(rng, 20, 40, axis=1)
    assert along_columns.shape == (20, 40, 3) and (along_columns == along_columns[:1]).all()
    steps = np.abs(np.diff(along_columns[0].astype(int), axis=0))
    assert steps.max() <= 2 and steps.sum() > 0  # an 8-bit ramp: steps of a code value or two, not flat
    along_rows = calibration.ramp(rng, 40, 20, axis=0)
    assert (along_rows == along_rows[:, :1]).all()
    shapes = [calibration.synthetic(rng, 40) for _ in range(8)]
    assert all(s.shape == (40, 40, 3) and s.dtype == np.uint8 for s in shapes)
    assert not set(calibration.TRAINING_PICTURES) & set(calibration.GATE_PICTURES), "the gate's stay held out"


def first_weight(network: nn.Module) -> torch.Tensor:
    """The first convolution's weights (inside its rounding wrapper while fine-tuning)."""
    return next(m for m in network.modules() if isinstance(m, nn.Conv2d)).weight.detach()


def test_fine_tuning_keeps_the_checkpoint_that_scored_best(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[qat.Score, torch.Tensor]] = []
    scripted = iter([qat.Score(0, 0.4), qat.Score(0, 0.2), qat.Score(1, 0.0)])

    def score(self: qat.Validation, student: nn.Module) -> qat.Score:
        seen.append((next(scripted), first_weight(student).clone()))
        return seen[-1][0]

    monkeypatch.setattr(qat.Validation, "score", score)
    monkeypatch.setattr(qat, "VALIDATE_EVERY", 1)
    tuned, roundings = qat.fine_tune(tiny_network(), 1, steps=4)
    assert len(seen) == 3  # steps 2, 3 and 4: the second half of the schedule
    # Fewest new steps first, then the least loss: the middle checkpoint, not the last.
    assert torch.equal(first_weight(tuned), seen[1][1])
    assert not torch.equal(seen[1][1], seen[2][1])  # the checkpoints did differ
    assert len(roundings) == 3


def test_the_validation_set_is_not_the_gates() -> None:
    ramps = calibration.validation_ramps(4, qat.VALIDATION_SEED)
    gate_ramps = list(calibration.gradients().values())
    assert all(ramp.shape == gate_ramps[0].shape for ramp, _ in ramps)
    assert not any(np.array_equal(ramp, g) for ramp, _ in ramps for g in gate_ramps)
    shapes = calibration.validation_graphics(2, 4, qat.VALIDATION_SEED)
    assert all(c.low.shape == (48, 48, 3) and c.high.shape == (192, 192, 3) for c in shapes)
