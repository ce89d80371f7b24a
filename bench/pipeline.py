"""End-to-end frames/s of ``python -m adapter upscale`` vs model-only frames/s on the same frames.

Backends: in-process (OpenVINO) and Triton (a tritonserver started here on the CPU model repository).
Both sides use the production defaults (``JobOptions()``: encoder, CRF, preset ``auto``; ``--presets``
adds rows for other presets, ``medium`` by default, for comparison) and the same batches and requests in
flight. Wall frames/s depend on what else the machine runs,
so CPU milliseconds per frame (this process plus the Triton server's process tree) are reported too: their
ratio is what the wall ratio becomes on an otherwise idle CPU-bound host. Each figure is the best of
``--repeats`` runs.
``--precision`` (auto | f32 | bf16 | int8, contract/precision.py) picks the in-process model's precision;
the JSON records the choice, its reason and the CPU's flags.
Run: ``.venv/bin/python -m bench.pipeline [--seconds 10] [--repeats 3] [--no-triton]
[--presets auto,medium] [--precision auto] [--models-dir DIR]``; writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from adapter.inference.base import Upscaler
from adapter.inference.upscalers import local_precision, make_upscaler
from adapter.video import flow, pipeline
from adapter.video.decode import Decoder
from adapter.video.encoder import resolve_preset
from contract.messages import JobOptions
from contract.precision import PRECISIONS, cpu_flags, shown
from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x4"
MODELS_DIR = ROOT / ".models" / "onnx"
CpuClock = Callable[[], float]


def decoded_frames(path: Path) -> np.ndarray:
    """All frames of the clip as the pipeline sees them."""
    decoder = Decoder(path)
    try:
        return np.stack([rgb for rgb, _ in decoder.frames()])
    finally:
        decoder.close()


def repeats(frames: np.ndarray) -> int:
    """How many frames the pipeline's static-frame skip would not send to the model."""
    skipped, last = 0, frames[0]
    for frame in frames[1:]:
        if flow.same_picture(frame, last):
            skipped += 1
        else:
            last = frame
    return skipped


def own_cpu() -> float:
    """CPU seconds of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of a live process and its descendants, from /proc."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    tree, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def timed(work: Callable[[], Any], cpu: CpuClock) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of one call."""
    cpu0, wall0 = cpu(), time.perf_counter()
    result = work()
    return time.perf_counter() - wall0, cpu() - cpu0, result


def model_only(upscaler: Upscaler, frames: np.ndarray, cpu: CpuClock) -> tuple[float, float]:
    """(frames/s, CPU s) of the model alone: the pipeline's batches and requests in flight."""
    batches = [frames[i : i + upscaler.max_batch] for i in range(0, len(frames), upscaler.max_batch)]

    def work() -> None:
        with ThreadPoolExecutor(max_workers=upscaler.in_flight) as pool:
            list(pool.map(upscaler.infer, batches))

    wall, seconds, _ = timed(work, cpu)
    return len(frames) / wall, seconds


def pipeline_run(
    upscaler: Upscaler, source: Path, options: JobOptions, cpu: CpuClock
) -> tuple[float, float, int]:
    """(frames/s, CPU s, frames inferred) of ``pipeline.run`` in this process."""
    with tempfile.TemporaryDirectory() as folder:
        wall, seconds, result = timed(
            lambda: pipeline.run(source, Path(folder) / "out.mp4", options, upscaler), cpu
        )
    return result.frames / wall, seconds, result.inferred


def command_fps(source: Path, frames: int, extra: list[str]) -> tuple[float, float]:
    """(frames/s of the pipeline as the command reports it, frames/s over the command's whole wall time)."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(
                    sys.executable,
                    "-m",
                    "adapter",
                    "upscale",
                    str(source),
                    "-o",
                    str(Path(folder) / "out.mp4"),
                ),
                *("--model", MODEL, "--models-dir", str(MODELS_DIR), "--quiet", *extra),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
        wall = time.perf_counter() - started
    # Last line: "<path>: N frames, WxH, S s (...)" where S excludes interpreter start-up and model loading.
    parts = done.stderr.strip().splitlines()[-1].rsplit(": ", 1)[1].split(", ")
    if int(parts[0].split()[0]) != frames:
        raise RuntimeError(f"the command wrote {parts[0]}, expected {frames} frames")
    return frames / float(parts[2].split()[0]), frames / wall


def measure(
    name: str, upscaler: Upscaler, frames: np.ndarray, source: Path, args: Any, extra: list[str]
) -> list[dict[str, Any]]:
    """Rows of the table, one per preset: best of ``args.repeats`` for each figure, all sides interleaved."""
    cpu = own_cpu if args.server_pid is None else (lambda: own_cpu() + tree_cpu(args.server_pid))
    n = len(frames)
    upscaler.infer(frames[: upscaler.max_batch])  # warm-up
    model, model_cpu = 0.0, float("inf")
    best = {p: {"e2e": 0.0, "run": 0.0, "run_cpu": float("inf"), "startup": 0.0} for p in args.presets}
    for _ in range(args.repeats):
        fps, seconds = model_only(upscaler, frames, cpu)
        model, model_cpu = max(model, fps), min(model_cpu, seconds)
        for preset in args.presets:
            figures = best[preset]
            fps, seconds, inferred = pipeline_run(upscaler, source, JobOptions(preset=preset), cpu)
            figures["run"], figures["run_cpu"] = max(figures["run"], fps), min(figures["run_cpu"], seconds)
            if inferred != n:
                raise RuntimeError(
                    f"the pipeline inferred {inferred} of {n} frames; the comparison would be unfair"
                )
            fps, with_startup = command_fps(source, n, [*extra, "--preset", preset])
            figures["e2e"] = max(figures["e2e"], fps)
            figures["startup"] = max(figures["startup"], with_startup)
    encoder = JobOptions().encoder
    return [
        {
            "backend": name,
            "preset": preset,
            "preset_used": resolve_preset(preset, encoder, upscaler.device),
            "frames": n,
            "inferred": n,
            "batch": upscaler.max_batch,
            "in_flight": upscaler.in_flight,
            "model_only_fps": round(model, 2),
            "end_to_end_fps": round(figures["e2e"], 2),
            "ratio": round(figures["e2e"] / model, 3),
            "in_process_run_fps": round(figures["run"], 2),
            "end_to_end_fps_incl_startup": round(figures["startup"], 2),
            "model_cpu_ms": round(1000 * model_cpu / n, 1),
            "end_to_end_cpu_ms": round(1000 * figures["run_cpu"] / n, 1),
            "cpu_ratio": round(model_cpu / figures["run_cpu"], 3),
            # processing time / video duration: below 1 is faster than real time
            "real_time_factor": round((n / figures["e2e"]) / args.seconds, 3),
        }
        for preset, figures in best.items()
    ]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_model() -> str:
    """The CPU's model name as lscpu prints it."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> int:
    """Run the benchmark and print a table."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--seconds", type=float, default=10)
    cli.add_argument("--size", default="176x144")
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--no-triton", action="store_true")
    cli.add_argument("--precision", default="auto", choices=PRECISIONS, help="in-process model's precision")
    cli.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    cli.add_argument(
        "--presets",
        default=f"{JobOptions().preset},medium",
        help="encoder presets to compare, comma-separated (first: the production default)",
    )
    args = cli.parse_args()
    args.presets = args.presets.split(",")
    args.server_pid = None
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        source = make_clip(Path(folder) / "bench.mp4", size=args.size, seconds=args.seconds)
        frames = decoded_frames(source)
        if skipped := repeats(frames):
            raise RuntimeError(f"{skipped} frames of the clip would be skipped as repeats; use a moving clip")
        local = make_upscaler(MODEL, None, args.models_dir, precision=args.precision)
        choice = local_precision(MODEL, args.models_dir, args.precision)[1]
        extra = ["--models-dir", str(args.models_dir), "--precision", args.precision]
        rows += measure(f"in-process {choice.precision}", local, frames, source, args, extra)
        local.close()
        if not args.no_triton:
            from model_convertation.server import TritonServer

            server = TritonServer(
                ROOT / "tensorrt_models_running",
                http_port=free_port(),
                grpc_port=free_port(),
                metrics_port=free_port(),
                models=[MODEL],
                ready_timeout_s=300,
            )
            server.start()
            try:
                args.server_pid = server.pid
                remote = make_upscaler(MODEL, server.grpc_url, MODELS_DIR)
                rows += measure("triton", remote, frames, source, args, ["--triton-url", server.grpc_url])
                remote.close()
            finally:
                server.stop()
    header = (
        "backend",
        "preset_used",
        "model_only_fps",
        "end_to_end_fps",
        "ratio",
        "model_cpu_ms",
        "end_to_end_cpu_ms",
        "cpu_ratio",
    )
    print(" | ".join(f"{h:>17}" for h in header))
    for row in rows:
        print(" | ".join(f"{row[h]!s:>17}" for h in header))
    defaults = JobOptions()
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model": MODEL,
        "size": args.size,
        "clip_seconds": args.seconds,
        "repeats": args.repeats,
        "encoder": f"{defaults.encoder} crf {defaults.crf}",
        "production_default_preset": defaults.preset,
        "output": "x4 (model's native scale)",
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "cpu_flags_deciding": shown(cpu_flags()),
        "cpu_flags": sorted(cpu_flags()),
        "precision": {"requested": args.precision, **choice.__dict__},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "target": "end_to_end_fps >= 0.9 * model_only_fps",
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "pipeline.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    loads = f"{result['load_average_before']} -> {result['load_average_after']}"
    print(f"load average {loads}; wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
