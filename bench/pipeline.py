"""End-to-end frames/s of ``python -m adapter upscale`` vs model-only frames/s on the same frames.

Backends: in-process (OpenVINO) and Triton (a tritonserver started here on the CPU model repository).
Run: ``.venv/bin/python -m bench.pipeline [--seconds 10] [--no-triton]``; writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from adapter.inference import Upscaler, make_upscaler
from adapter.video import Decoder
from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x4"
MODELS_DIR = ROOT / ".models" / "onnx"


def decoded_frames(path: Path) -> np.ndarray:
    """All frames of the clip as the pipeline sees them."""
    decoder = Decoder(path)
    try:
        return np.stack([rgb for rgb, _ in decoder.frames()])
    finally:
        decoder.close()


def model_only_fps(upscaler: Upscaler, frames: np.ndarray) -> float:
    """Frames/s of the model alone: the same batches, the same number of requests in flight."""
    batches = [frames[i : i + upscaler.max_batch] for i in range(0, len(frames), upscaler.max_batch)]
    upscaler.infer(batches[0])  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=upscaler.in_flight) as pool:
        list(pool.map(upscaler.infer, batches))
    return len(frames) / (time.perf_counter() - started)


def command_fps(source: Path, output: Path, frames: int, extra: list[str]) -> tuple[float, float]:
    """(frames/s of the pipeline as the command reports it, frames/s over the command's whole wall time)."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "adapter",
            "upscale",
            str(source),
            "-o",
            str(output),
            "--model",
            MODEL,
            "--models-dir",
            str(MODELS_DIR),
            "--quiet",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    wall = time.perf_counter() - started
    # Last line: "<path>: N frames, WxH, S s (...)" where S excludes interpreter start-up and model loading.
    pipeline_s = float(done.stderr.strip().splitlines()[-1].split(", ")[2].split()[0])
    return frames / pipeline_s, frames / wall


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(
    name: str, upscaler: Upscaler, frames: np.ndarray, source: Path, seconds: float, extra: list[str]
) -> dict[str, Any]:
    """One row of the table."""
    model = model_only_fps(upscaler, frames)
    with tempfile.TemporaryDirectory() as folder:
        e2e, e2e_wall = command_fps(source, Path(folder) / "out.mp4", len(frames), extra)
    return {
        "backend": name,
        "frames": len(frames),
        "model_only_fps": round(model, 2),
        "end_to_end_fps": round(e2e, 2),
        "end_to_end_fps_incl_startup": round(e2e_wall, 2),
        "ratio": round(e2e / model, 3),
        "real_time_factor": round(e2e / (len(frames) / seconds), 3),
    }


def main() -> int:
    """Run the benchmark and print a table."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--seconds", type=float, default=10)
    cli.add_argument("--size", default="176x144")
    cli.add_argument("--no-triton", action="store_true")
    args = cli.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        source = make_clip(Path(folder) / "bench.mp4", size=args.size, seconds=args.seconds)
        frames = decoded_frames(source)
        local = make_upscaler(MODEL, None, MODELS_DIR)
        rows.append(measure("in-process", local, frames, source, args.seconds, []))
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
                remote = make_upscaler(MODEL, server.grpc_url, MODELS_DIR)
                rows.append(
                    measure("triton", remote, frames, source, args.seconds, ["--triton-url", server.grpc_url])
                )
                remote.close()
            finally:
                server.stop()
    header = ("backend", "frames", "model_only_fps", "end_to_end_fps", "ratio", "real_time_factor")
    print(" | ".join(f"{h:>16}" for h in header))
    for row in rows:
        print(" | ".join(f"{row[h]!s:>16}" for h in header))
    result = {
        "model": MODEL,
        "size": args.size,
        "clip_seconds": args.seconds,
        "encoder": "libx264 crf 18 medium",
        "output": "x4 (model's native scale)",
        "machine": f"{platform.processor() or platform.machine()}",
        "target": "end_to_end_fps >= 0.9 * model_only_fps",
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "pipeline.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
