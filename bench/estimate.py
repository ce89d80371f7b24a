"""The job estimate's figures and its check: each model's wall seconds per input megapixel, and a real run.

1. Speed: every model of the catalogue (in-process OpenVINO, as the CLI runs it) upscales batches of a
   256x192 testsrc2 picture; wall and CPU seconds (this process, every thread) per input megapixel per
   picture, best of ``--repeats`` after a warm-up call. CPU seconds hold still when other work shares the
   cores, wall seconds do not: the estimate's figures (``contract.estimate.SECONDS_PER_MEGAPIXEL``) are
   the CPU seconds spread over the host's cores, i.e. the wall time of a host with nothing else to do.
2. Check: a tiny PAL DV-like clip (720x576, 25i, top field first, ``--frames`` frames) goes through
   ``python -m adapter upscale --scale 2``; the estimate the CLI prints first is compared with the
   command's measured wall time (model loading included, as in the estimate). Target: within 2x.

Run ``python -m bench.estimate [--models a,b] [--frames 4] [--models-dir DIR]``; prints a table and
writes bench/results/estimate.json. Models come from ``--models-dir`` (``<model>.onnx``), else from the CPU
Triton repository (``tensorrt_models_running/<model>/1/model.onnx``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from adapter.inference.upscalers import make_upscaler
from contract.estimate import seconds_per_megapixel
from contract.models import CATALOGUE, served_name
from contract.precision import PRECISIONS, cpu_flags, host_precision, shown

ROOT = Path(__file__).resolve().parents[1]
SIZE = (256, 192)
TARGET_RATIO = 2.0


def models_dir(given: Path | None, folder: Path) -> Path:
    """``given``, or a folder of ``<model>.onnx`` links into the CPU Triton repository."""
    if given is not None:
        return given
    for model in CATALOGUE:
        name = served_name(model.id)
        onnx = ROOT / "tensorrt_models_running" / name / "1" / "model.onnx"
        if onnx.is_file():
            (folder / f"{name}.onnx").symlink_to(onnx)
    return folder


def picture() -> np.ndarray:
    """A 256x192 testsrc2 picture (RGB24), made by ffmpeg."""
    raw = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}"),
            *("-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(SIZE[1], SIZE[0], 3)


def cpu_seconds() -> float:
    """CPU seconds of this process (all threads: OpenVINO's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def speed(model: str, folder: Path, repeats: int, precision: str) -> tuple[float, float]:
    """(wall, CPU) seconds per input megapixel per picture of ``model``, best of ``repeats`` batches."""
    upscaler = make_upscaler(served_name(model), None, folder, 3600, precision=precision)
    try:
        batch = np.stack([picture()] * upscaler.max_batch)
        upscaler.infer(batch)  # warm-up: compilation, first-call allocations
        wall = cpu = float("inf")
        for _ in range(repeats):
            started, used = time.perf_counter(), cpu_seconds()
            upscaler.infer(batch)
            wall, cpu = min(wall, time.perf_counter() - started), min(cpu, cpu_seconds() - used)
    finally:
        upscaler.close()
    pixels = len(batch) * SIZE[0] * SIZE[1] / 1e6
    return wall / pixels, cpu / pixels


def interlaced_clip(path: Path, frames: int) -> Path:
    """720x576 25i (top field first) MPEG-2 in MPEG-PS, like a DV/DVD capture: ``frames`` frames."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=720x576:r=50"),
            *("-vf", "tinterlace=interleave_top,fieldorder=tff", "-frames:v", str(frames)),
            *("-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-top", "1", "-b:v", "6M", str(path)),
        ],
        check=True,
        timeout=120,
    )
    return path


def check(folder: Path, frames: int, work: Path) -> dict[str, Any]:
    """Run the CLI on the interlaced clip: its printed estimate against the measured wall time."""
    clip = interlaced_clip(work / "pal.mpg", frames)
    args = [sys.executable, "-m", "adapter", "upscale", str(clip), "-o", str(work / "out.mp4")]
    # Not --quiet: it hides the estimate line.
    args += ["--scale", "2", "--models-dir", str(folder), "--timeout", "600"]
    before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600, cwd=ROOT, check=True)
    measured = time.perf_counter() - started
    line = next(text for text in done.stderr.splitlines() if text.startswith("estimate:"))
    loads = {"load_before": round(before, 2), "load_after": round(os.getloadavg()[0], 2)}
    return {"estimate_line": line, "estimate_s": _seconds(line), "measured_s": round(measured, 1), **loads}


def _seconds(line: str) -> float:
    """Seconds of ``estimate: about 3 min 20 s ...`` (also ``42 s`` and ``2 h 05 min``)."""
    found = re.search(r"about (?:(\d+) h )?(?:(\d+) min )?(?:(\d+) s)?", line)
    assert found is not None, line
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def main() -> None:
    """Measure, print a table, write bench/results/estimate.json."""
    cli = argparse.ArgumentParser(prog="python -m bench.estimate")
    cli.add_argument("--models", default=",".join(m.id for m in CATALOGUE), help="comma-separated ids")
    cli.add_argument("--models-dir", type=Path, default=None)
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--frames", type=int, default=4, help="frames of the 720x576 interlaced clip")
    cli.add_argument("--no-check", action="store_true", help="only the speeds")
    cli.add_argument("--precision", choices=PRECISIONS, default="auto", help="of the speed table")
    cli.add_argument("--out", default="estimate.json", help="file name under bench/results")
    args = cli.parse_args()
    flags = cpu_flags()
    with tempfile.TemporaryDirectory() as temp:
        folder = models_dir(args.models_dir, Path(temp))
        # The check first: the CLI's estimate reads the load average, which the speed table would raise.
        run: dict[str, Any] = {} if args.no_check else check(folder, args.frames, Path(temp))
        speeds: dict[str, dict[str, Any]] = {}
        cores = os.cpu_count() or 1
        ran = host_precision(args.precision)
        print(f"CPU flags: {' '.join(shown(flags)) or '-'}; precision {args.precision}: {ran}")
        print("| model | precision | wall s/MP | CPU s/MP | CPU s/MP ÷ cores | in contract.estimate |")
        print("|---|---|---|---|---|---|")
        for model in args.models.split(","):
            wall, cpu = speed(model, folder, args.repeats, args.precision)
            idle, cpu = round(cpu / cores, 2), round(cpu, 2)
            speeds[model] = {"precision": ran, "wall": round(wall, 2), "cpu": cpu, "idle_wall": idle}
            known = seconds_per_megapixel(model, ran)
            print(f"| {model} | {ran} | {wall:.2f} | {cpu:.2f} | {idle:.2f} | {known} |", flush=True)
    if run:
        ratio = max(run["estimate_s"], run["measured_s"]) / max(
            min(run["estimate_s"], run["measured_s"]), 1e-9
        )
        run["ratio"] = round(float(ratio), 2)
        run["within_2x"] = "yes" if ratio <= TARGET_RATIO else "no"
        verdict = f"ratio {run['ratio']} ({run['within_2x']})"
        print(f"\n{run['estimate_line']}\nmeasured: {run['measured_s']} s; {verdict}")
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load": os.getloadavg(),
        "cpu_flags": shown(flags),
        "size": SIZE,
        "seconds_per_megapixel": speeds,
        "check": run,
    }
    out = ROOT / "bench" / "results" / args.out
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
