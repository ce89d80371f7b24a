"""Per precision (f32, int8, bf16 where native): model-only and end-to-end frames/s, CPU ms/frame, quality.

Every precision runs in the same process, one after another, on the same decoded clip (``make_clip``, a
moving testsrc2 clip) with the pipeline's batches and requests in flight (``bench.pipeline.measure``:
model alone, ``pipeline.run`` in-process for CPU ms, and ``python -m adapter upscale --precision …``
end to end). Ratios between precisions measured in one run are the figures to compare on a shared
machine. Quality: the int8 gate's verdict (``model_convertation/gate.py``) and the int8 output's PSNR
against the f32 output on the clip's frames. The JSON records the CPU's flags. ``--ungated`` measures an
int8 file whose gate failed (production never runs it): the bench then reads the models from a temporary
folder whose copy of the verdict says passed, and the JSON says so.
Run: ``.venv/bin/python -m bench.precision [--models realesr-animevideov3-x4] [--models-dir DIR]
[--seconds 4] [--repeats 2] [--ungated]``; writes bench/results/precision.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from adapter.inference.upscalers import LocalUpscaler, TiledUpscaler, int8_verdict
from bench.pipeline import MODELS_DIR, cpu_model, decoded_frames, measure
from contract.precision import BF16_FLAGS, cpu_flags, shown
from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two uint8 arrays, in dB (100 when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def precisions(flags: frozenset[str]) -> list[str]:
    """f32 and int8 everywhere; bf16 only where the CPU has it natively (else it would run as f32)."""
    return ["f32", "int8", *(["bf16"] if any(flag in flags for flag in BF16_FLAGS) else [])]


def ungated_copy(models_dir: Path, models: list[str], folder: Path) -> Path:
    """Links to the models' files, with verdicts marked passed (``gate_overridden``) for the bench only."""
    folder.mkdir()
    for model in models:
        for name in (f"{model}.onnx", f"{model}.int8.onnx"):
            if (models_dir / name).is_file():
                (folder / name).symlink_to((models_dir / name).resolve())
        gate_file = models_dir / f"{model}.int8.gate.json"
        if gate_file.is_file():
            verdict = json.loads(gate_file.read_text())
            verdict.update(passed_as_measured=verdict["passed"], passed=True, gate_overridden=True)
            (folder / gate_file.name).write_text(json.dumps(verdict))
    return folder


def keep_best(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Best of two rows: highest frames/s, lowest CPU ms (ratios recomputed from the kept figures)."""
    if old is None:
        return new
    row = dict(old)
    for key in ("model_only_fps", "end_to_end_fps", "in_process_run_fps", "end_to_end_fps_incl_startup"):
        row[key] = max(old[key], new[key])
    for key in ("model_cpu_ms", "end_to_end_cpu_ms", "real_time_factor"):
        row[key] = min(old[key], new[key])
    row["ratio"] = round(row["end_to_end_fps"] / row["model_only_fps"], 3)
    row["cpu_ratio"] = round(row["model_cpu_ms"] / row["end_to_end_cpu_ms"], 3)
    return row


def bench_model(model: str, frames: np.ndarray, source: Path, args: Any) -> list[dict[str, Any]]:
    """One row per precision for ``model``."""
    rows: list[dict[str, Any]] = []
    outputs: dict[str, np.ndarray] = {}
    gate_file = args.models_dir / f"{model}.int8.gate.json"
    gate = json.loads(gate_file.read_text()) if gate_file.is_file() else None
    upscalers: dict[str, tuple[LocalUpscaler, TiledUpscaler]] = {}
    for precision in precisions(args.flags):
        local = LocalUpscaler(model, args.models_dir, precision=precision)
        if local.choice.precision != precision:
            print(f"{model}: {precision} not available ({local.choice.reason}); skipped", file=sys.stderr)
            local.close()
            continue
        upscalers[precision] = (local, TiledUpscaler(local))
    # Precisions take turns within each repeat, so a change in the machine's load hits all of them.
    once = argparse.Namespace(**{**vars(args), "repeats": 1})
    best: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeats):
        for precision, (_, upscaler) in upscalers.items():
            extra = ["--models-dir", str(args.models_dir), "--precision", precision, "--model", model]
            row = measure(f"in-process {precision}", upscaler, frames, source, once, extra)[0]
            best[precision] = keep_best(best.get(precision), row)
    for precision, (local, upscaler) in upscalers.items():
        outputs[precision] = np.concatenate(
            [upscaler.infer(frames[i : i + 2]) for i in range(0, len(frames), 2)]
        )
        upscaler.close()
        rows.append(
            {"model": model, "precision": precision, "reason": local.choice.reason, **best[precision]}
        )
    for row in rows:
        f32_fps = next(r["model_only_fps"] for r in rows if r["precision"] == "f32")
        row["model_only_vs_f32"] = round(row["model_only_fps"] / f32_fps, 3)
        if row["precision"] != "f32":
            row["psnr_vs_f32_on_clip_db"] = round(psnr(outputs[row["precision"]], outputs["f32"]), 2)
        if row["precision"] == "int8" and gate is not None and gate.get("gate_overridden"):
            row["reason"] = (
                f"bench override (--ungated): the gate {'passed' if gate['passed_as_measured'] else 'failed'}"
            )
        if row["precision"] == "int8" and gate is not None:
            keys = ("passed", "passed_as_measured", "failed", "psnr_drop_db", "brisque_rise", "new_steps")
            row["gate"] = {k: gate[k] for k in keys if k in gate}
    return rows


def main() -> int:
    """Run and print the table; write bench/results/precision.json."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--models", default="realesr-animevideov3-x4")
    cli.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    cli.add_argument("--size", default="176x144")
    cli.add_argument("--seconds", type=float, default=4)
    cli.add_argument("--repeats", type=int, default=2)
    cli.add_argument("--ungated", action="store_true", help="measure int8 even where its gate failed")
    args = cli.parse_args()
    args.presets, args.server_pid, args.flags = ["auto"], None, cpu_flags()
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        if args.ungated:
            args.models_dir = ungated_copy(args.models_dir, args.models.split(","), Path(folder) / "models")
        source = make_clip(Path(folder) / "bench.mp4", size=args.size, seconds=args.seconds)
        frames = decoded_frames(source)
        for model in args.models.split(","):
            if int8_verdict(args.models_dir / f"{model}.int8.onnx") is None:
                print(f"{model}: no gated int8 file in {args.models_dir}", file=sys.stderr)
            rows += bench_model(model, frames, source, args)
    header = (
        "model",
        "precision",
        "model_only_fps",
        "model_only_vs_f32",
        "end_to_end_fps",
        "model_cpu_ms",
        "end_to_end_cpu_ms",
        "cpu_ratio",
    )
    print(" | ".join(f"{h:>17}" for h in header))
    for row in rows:
        print(" | ".join(f"{row.get(h, '')!s:>17}" for h in header))
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "size": args.size,
        "clip_seconds": args.seconds,
        "repeats": args.repeats,
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "cpu_flags_deciding": shown(args.flags),
        "cpu_flags": sorted(args.flags),
        "ungated": args.ungated,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "precision.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    loads = f"{result['load_average_before']} -> {result['load_average_after']}"
    print(f"CPU flags {shown(args.flags)}; load average {loads}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
