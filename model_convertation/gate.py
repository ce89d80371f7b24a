"""The int8 quality gate: an int8 model is offered only if it stays close to its f32 model on held-out frames.

Figures (both models run by OpenVINO on the CPU, as they are served): PSNR against the held-out reference
(mean per kind of ``calibration.gate_frames``; int8 may lose at most ``MAX_PSNR_DROP_DB`` in its worst kind,
saturated graphics included), BRISQUE of the natural pictures' outputs (int8 may score at most
``MAX_BRISQUE_RISE`` worse) and banding on flat gradients (no column or row
step of ``STEP_LEVELS`` or more against the f32 output, see ``banding``). The verdict is written next to the
int8 file as ``<model>.int8.gate.json``; ``auto`` reads it (contract.precision).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from model_convertation import calibration

MAX_PSNR_DROP_DB = 0.5
MAX_BRISQUE_RISE = 1.0
STEP_LEVELS = 1.0
Runner = Callable[[np.ndarray], np.ndarray]


def gate_path(int8_onnx: Path) -> Path:
    """``<name>.int8.onnx`` → ``<name>.int8.gate.json``."""
    return int8_onnx.with_name(int8_onnx.name.removesuffix(".onnx") + ".gate.json")


def openvino_runner(onnx_path: Path) -> Runner:
    """One OpenVINO CPU request in f32 inference precision (an int8 graph keeps its int8 convolutions)."""
    import openvino as ov

    compiled = ov.Core().compile_model(str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    return lambda frames: np.array(request.infer({0: np.ascontiguousarray(frames)})[0], copy=True)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two uint8 pictures, in dB (100 for identical ones)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def brisque(rgb: np.ndarray) -> float:
    """BRISQUE score (0 best … 100) from the ``brisque`` wheel's bundled model."""
    from brisque import BRISQUE

    return float(BRISQUE(url=False).score(rgb))


def steps(profile: np.ndarray) -> np.ndarray:
    """Where a luma profile jumps by ``STEP_LEVELS`` or more between neighbours."""
    return np.abs(np.diff(profile)) >= STEP_LEVELS


def profile(image: np.ndarray, axis: int) -> np.ndarray:
    """The averaged luma along ``axis`` (1: per column, 0: per row) of a gradient picture's inner part."""
    luma = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    h, w = luma.shape  # the outer eighth sees the padding, not the gradient
    inner = luma[h // 8 : h - h // 8, w // 8 : w - w // 8]
    return np.asarray(inner.mean(axis=1 - axis))


def banding(f32: np.ndarray, int8: np.ndarray, axis: int) -> dict[str, float]:
    """New steps of the int8 output along ``axis`` (1: columns, 0: rows) of a gradient picture.

    A new step is where the int8 profile steps by ``STEP_LEVELS`` or more against the f32 one: the
    difference of the two profiles jumps that much between neighbours. (Comparing each profile's own jumps
    instead counted 8-bit rounding: on a grey ramp each channel rises one code value at a time, and where
    f32 staggers R, G and B over neighbouring columns, int8 rising all three in one column read as a new
    step of 1.0, though no level moved by as much as a column; docs/benchmarks.md, "int8", the rule.)
    """
    ref, got = profile(f32, axis), profile(int8, axis)
    new = steps(got - ref)
    return {
        "new_steps": int(new.sum()),
        "max_step_f32": round(float(np.abs(np.diff(ref)).max()), 3),
        "max_step_int8": round(float(np.abs(np.diff(got)).max()), 3),
        "max_step_against_f32": round(float(np.abs(np.diff(got - ref)).max()), 3),
    }


def evaluate(model: str, scale: int, f32: Runner, int8: Runner) -> dict[str, Any]:
    """The gate's figures and verdict for one model."""
    kinds: dict[str, dict[str, list[float]]] = {}
    for case in calibration.gate_frames(scale):
        a, b = f32(case.low[None])[0], int8(case.low[None])[0]
        figures = kinds.setdefault(case.kind, {k: [] for k in ("psnr_f32", "psnr_int8", "int8_vs_f32")})
        if case.kind != calibration.GRAPHICS:  # BRISQUE models natural pictures; bars and flat fills are not
            figures.setdefault("brisque_f32", []).append(brisque(a))
            figures.setdefault("brisque_int8", []).append(brisque(b))
        figures["psnr_f32"].append(psnr(a, case.high))
        figures["psnr_int8"].append(psnr(b, case.high))
        figures["int8_vs_f32"].append(psnr(b, a))
    per_kind = {
        kind: {k: round(float(np.mean(v)), 3) for k, v in figs.items()} for kind, figs in kinds.items()
    }

    def overall(key: str) -> float:
        return float(np.mean([figs[key] for figs in per_kind.values() if key in figs]))

    bands = {}
    for name, picture in calibration.gradients().items():
        a, b = f32(picture[None])[0], int8(picture[None])[0]
        bands[name] = banding(a, b, axis=1 if name.startswith("horizontal") else 0)
    # The worst kind decides: a mean over kinds would let photographs hide clipped graphics.
    psnr_drop = max(figs["psnr_f32"] - figs["psnr_int8"] for figs in per_kind.values())
    brisque_rise = overall("brisque_int8") - overall("brisque_f32")
    new_steps = sum(int(b["new_steps"]) for b in bands.values())
    failed = [
        what
        for what, bad in (
            (f"PSNR drop {psnr_drop:.2f} dB > {MAX_PSNR_DROP_DB}", psnr_drop > MAX_PSNR_DROP_DB),
            (f"BRISQUE rise {brisque_rise:.2f} > {MAX_BRISQUE_RISE}", brisque_rise > MAX_BRISQUE_RISE),
            (f"{new_steps} new gradient steps", new_steps > 0),
        )
        if bad
    ]
    return {
        "model": model,
        "passed": not failed,
        "failed": failed,
        "psnr_drop_db": round(psnr_drop, 3),
        "brisque_rise": round(brisque_rise, 3),
        "new_steps": new_steps,
        "int8_vs_f32_psnr_db": round(overall("int8_vs_f32"), 2),
        "psnr_f32_db": round(overall("psnr_f32"), 3),
        "psnr_int8_db": round(overall("psnr_int8"), 3),
        "brisque_f32": round(overall("brisque_f32"), 3),
        "brisque_int8": round(overall("brisque_int8"), 3),
        "kinds": per_kind,
        "gradients": bands,
        "limits": {"psnr_drop_db": MAX_PSNR_DROP_DB, "brisque_rise": MAX_BRISQUE_RISE, "new_steps": 0},
        "held_out": [*calibration.GATE_PICTURES, calibration.GRAPHICS],
    }


def run_gate(
    model: str, scale: int, f32_onnx: Path, int8_onnx: Path, provenance: Mapping[str, str]
) -> dict[str, Any]:
    """Evaluate with OpenVINO and write ``<model>.int8.gate.json`` (with ``provenance``: the recipe and the
    source fingerprint the int8 file was built from); returns the verdict."""
    result = evaluate(model, scale, openvino_runner(f32_onnx), openvino_runner(int8_onnx))
    result.update(provenance)
    result["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    gate_path(int8_onnx).write_text(json.dumps(result, indent=2) + "\n")
    return result


def read_gate(int8_onnx: Path) -> dict[str, Any] | None:
    """The stored verdict for an int8 file, or None when there is none (or it is unreadable)."""
    try:
        found = json.loads(gate_path(int8_onnx).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
