"""Working memory of one model call per input pixel, per model (in-process OpenVINO, f32, batch 1).

Each (model, side) runs in a fresh process: the model is loaded and warmed on a 32×32 picture, then one
``side``×``side`` picture is upscaled; the growth of the peak resident set over the warmed one is that call's
working memory. The slope between two sides is the memory per input pixel (what the tile size is chosen
from, adapter/inference/tiling.py), free of the fixed cost of the loaded model.

Run: ``.venv/bin/python -m bench.tile_memory [--models a,b] [--sides 192,384]``; writes
bench/results/tile_memory.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

from contract.models import SERVED

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "tile_memory.json"


def _peak_bytes() -> int:
    """This process's peak resident set (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_one(model: str, side: int, models_dir: Path) -> int:
    """Peak-memory growth of one ``side``×``side`` call over the loaded, warmed model (a fresh process)."""
    from adapter.inference.upscalers import LocalUpscaler

    upscaler = LocalUpscaler(model, models_dir, max_batch=1, precision="f32")
    upscaler.infer(np.zeros((1, 32, 32, 3), np.uint8))
    warmed = _peak_bytes()
    picture = np.random.default_rng(0).integers(0, 256, (1, side, side, 3), np.uint8)
    upscaler.infer(picture)
    return _peak_bytes() - warmed


def _child(model: str, side: int, models_dir: Path) -> int:
    """Run :func:`measure_one` in a fresh interpreter and read its answer."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.tile_memory", "--one", model, "--sides", str(side),
         "--models-dir", str(models_dir)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure every model (or --models) at two sides; print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="", help="comma-separated served names (default: every model)")
    parser.add_argument("--sides", default="192,384")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".models" / "onnx")
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sides = [int(s) for s in args.sides.split(",")]
    if args.one:
        print(measure_one(args.one, sides[0], args.models_dir))
        return
    names = args.models.split(",") if args.models else [
        m for m in SERVED if (args.models_dir / f"{m}.onnx").is_file()
    ]
    rows = []
    print(f"{'model':34} " + " ".join(f"{f'{s}² MiB':>10}" for s in sides) + f" {'bytes/px':>9}")
    for model in names:
        grown = [_child(model, side, args.models_dir) for side in sides]
        slope = (grown[-1] - grown[0]) / (sides[-1] ** 2 - sides[0] ** 2)
        rows.append({"model": model, "sides": sides, "growth_bytes": grown, "bytes_per_pixel": round(slope)})
        print(f"{model:34} " + " ".join(f"{g / 2**20:10.1f}" for g in grown) + f" {slope:9.0f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
        "rows": rows,
    }, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
