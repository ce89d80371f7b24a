"""How many bits the int8 gate needs: the served network fake-quantized at several widths, through the gate.

Each row quantizes the f32 network in PyTorch the way the int8 graph does (``torch.fake_quantize_*``:
symmetric per-channel weights, asymmetric per-tensor activations at every convolution's input, ranges
from ``calibration.calibration_frames`` as the mean of per-frame quantiles, like NNCF's) at a given
number of bits for weights and activations, and runs it through ``model_convertation.gate.evaluate``
against the f32 network, plus the test clip of ``tests/model_convertation/test_int8.py`` (testsrc2
shrunk 4x to 64x48, H.264). The ``openvino`` row, when the int8 file exists, is the served QDQ graph run
by OpenVINO against the served f32 graph: it anchors the simulated 8/8 row. ``--fine-tune`` adds the
graph of ``quantize(..., fine_tune=True)`` (model_convertation/qat.py, ≈ 15 min on 2 cores). Nothing here
is served; it shows which widths and ranges could pass the gate at all.
Run: ``.venv/bin/python -m bench.int8_bits [--model realesr-animevideov3-x4] [--models-dir DIR]
[--fine-tune]``; writes bench/results/int8-bits.json.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.pipeline import MODELS_DIR
from contract.precision import cpu_flags, shown
from model_convertation import calibration, catalog, gate, qat, quantize, weights
from model_convertation.export import Uint8Graph
from tests.fixtures.media import pair_from_testsrc

ROOT = Path(__file__).resolve().parents[1]
F32 = 0  # no quantization on that side
#: (weight bits, activation bits, activation outlier share per end: the recipe's quantile, or 0 = min/max)
ROWS = (
    (8, F32, 0.0),
    (F32, 8, quantize.OUTLIER_PROB),
    (F32, 8, 0.0),
    (8, 8, quantize.OUTLIER_PROB),
    (8, 8, 0.0),
    (10, 10, quantize.OUTLIER_PROB),
    (10, 10, 0.0),
    (12, 12, quantize.OUTLIER_PROB),
    (12, 12, 0.0),
)
Runner = Callable[[np.ndarray], np.ndarray]


def runner(network: nn.Module) -> Runner:
    """uint8 NHWC frames → the network's uint8 NHWC answer (the exported graph's pre/post-processing)."""
    graph = Uint8Graph(network).eval()

    def run(frames: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return graph(torch.from_numpy(np.ascontiguousarray(frames))).numpy()

    return run


def fake_quantized(network: nn.Module, w_bits: int, a_bits: int, outlier: float) -> nn.Module:
    """A copy of ``network`` whose convolutions see ``a_bits`` inputs and ``w_bits`` weights."""
    model = copy.deepcopy(network).eval()
    ranges = qat.input_ranges(model, calibration.calibration_frames(), outlier) if a_bits else {}
    for conv in [m for m in model.modules() if isinstance(m, nn.Conv2d)]:
        if w_bits:
            top = 2 ** (w_bits - 1) - 1
            scale = conv.weight.detach().abs().amax(dim=(1, 2, 3)).clamp_min(1e-12) / top
            zero = torch.zeros(scale.numel(), dtype=torch.int32)
            with torch.no_grad():
                conv.weight.copy_(
                    torch.fake_quantize_per_channel_affine(conv.weight, scale, zero, 0, -top, top)
                )
        if a_bits:
            low, high = ranges[conv]
            top = 2**a_bits - 1
            step = max(high - low, 1e-12) / top
            zp = round(-low / step)

            def hook(
                _: nn.Module, args: tuple[torch.Tensor], s: float = step, z: int = zp, t: int = top
            ) -> Any:
                return (torch.fake_quantize_per_tensor_affine(args[0], s, z, 0, t),)

            conv.register_forward_pre_hook(hook)
    return model


def on_clip(f32: Runner, quantized: Runner, scale: int, folder: Path) -> tuple[float, float]:
    """(PSNR drop, BRISQUE rise) on the test clip (means over frames; PSNR against its sources)."""
    low, high = pair_from_testsrc(folder, scale)
    a, b = f32(low), quantized(low)
    drop = np.mean([gate.psnr(x, h) for x, h in zip(a, high, strict=True)]) - np.mean(
        [gate.psnr(y, h) for y, h in zip(b, high, strict=True)]
    )
    rise = np.mean([gate.brisque(y) for y in b]) - np.mean([gate.brisque(x) for x in a])
    return float(drop), float(rise)


def own_jump_steps(f32: Runner, quantized: Runner) -> int:
    """New steps by the gate's earlier rule, for comparison: where the int8 profile's own jump reaches a
    code value and the f32 profile's jump there does not (it counted R, G and B rising in one column)."""
    count = 0
    for name, picture in calibration.gradients().items():
        axis = 1 if name.startswith("horizontal") else 0
        ref, got = (gate.profile(run(picture[None])[0], axis) for run in (f32, quantized))
        count += int((gate.steps(got) & ~gate.steps(ref)).sum())
    return count


def row(label: str, model: str, scale: int, f32: Runner, quantized: Runner, folder: Path) -> dict[str, Any]:
    """The gate's figures for one width, and the test clip's drop."""
    verdict = gate.evaluate(model, scale, f32, quantized)
    bands = verdict["gradients"].values()
    drop, rise = on_clip(f32, quantized, scale, folder)
    return {
        "row": label,
        "passed": verdict["passed"],
        "psnr_drop_db": verdict["psnr_drop_db"],
        "brisque_rise": verdict["brisque_rise"],
        "new_steps": verdict["new_steps"],
        "new_steps_earlier_rule": own_jump_steps(f32, quantized),
        "max_step": max(b["max_step_int8"] for b in bands),
        "max_step_f32": max(b["max_step_f32"] for b in bands),
        "vs_f32_db": verdict["int8_vs_f32_psnr_db"],
        "clip_drop_db": round(drop, 3),
        "clip_brisque_rise": round(rise, 2),
    }


def main() -> int:
    """Print the table; write bench/results/int8-bits.json."""
    cli = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    cli.add_argument("--model", default="realesr-animevideov3-x4")
    cli.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    cli.add_argument("--out", type=Path, default=ROOT / "bench/results/int8-bits.json")
    cli.add_argument("--fine-tune", action="store_true", help="add the quantization-aware fine-tuned graph")
    args = cli.parse_args()
    spec = catalog.SERVED[args.model]
    network = weights.load_upscaler(spec)
    f32 = runner(network)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for w_bits, a_bits, outlier in ROWS:
            ranges = "min/max" if outlier == 0 else f"{outlier:g} quantile"
            label = f"weights {w_bits or 'f32'}, activations {a_bits or 'f32'}" + (
                f" ({ranges})" if a_bits else ""
            )
            rows.append(
                row(
                    label,
                    spec.name,
                    spec.scale,
                    f32,
                    runner(fake_quantized(network, w_bits, a_bits, outlier)),
                    folder,
                )
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        ov_f32 = gate.openvino_runner(args.models_dir / f"{spec.name}.onnx")
        if args.fine_tune:
            source = shutil.copy(args.models_dir / f"{spec.name}.onnx", folder / f"{spec.name}.onnx")
            tuned, _ = quantize.quantize(spec, Path(source), fine_tune=True)
            rows.append(
                row(
                    "openvino: fine-tuned (qat.py)",
                    spec.name,
                    spec.scale,
                    ov_f32,
                    gate.openvino_runner(tuned),
                    folder,
                )
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        served = args.models_dir / f"{spec.name}.int8.onnx"
        if served.is_file():
            rows.append(
                row(
                    "openvino: the served int8 graph",
                    spec.name,
                    spec.scale,
                    ov_f32,
                    gate.openvino_runner(served),
                    folder,
                )
            )
    print(
        f"| {spec.name}: bits (ranges) | gate | worst-kind PSNR drop, dB | BRISQUE rise "
        "| new steps (earlier rule) "
        "| largest step (f32) | vs f32, dB | test clip: PSNR drop, dB / BRISQUE rise |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        verdict = "passed" if r["passed"] else "failed"
        print(
            f"| {r['row']} | {verdict} | {r['psnr_drop_db']:.2f} | {r['brisque_rise']:.2f} "
            f"| {r['new_steps']} ({r['new_steps_earlier_rule']}) "
            f"| {r['max_step']:.2f} ({r['max_step_f32']:.2f}) | {r['vs_f32_db']:.1f} "
            f"| {r['clip_drop_db']:.2f} / {r['clip_brisque_rise']:.2f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "model": spec.name,
                "cpu_flags": shown(cpu_flags()),
                "limits": {"psnr_drop_db": gate.MAX_PSNR_DROP_DB, "brisque_rise": gate.MAX_BRISQUE_RISE},
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
