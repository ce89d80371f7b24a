"""Model throughput: in-process OpenVINO (bf16/f32), ONNX Runtime and Triton gRPC; table + JSON.

Run from the project root: `.venv/bin/python -m bench.model [--models a,b] [--size 176x144] [--seconds 8]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model_convertation import catalog, paths
from model_convertation.builder import build_cpu, build_onnx
from model_convertation.repository import ServingOptions
from model_convertation.server import TritonServer
from model_convertation.weights import Upscaler

RESULTS = Path(__file__).resolve().parent / "results" / "model.json"
Runner = Callable[[np.ndarray], np.ndarray]


def gflop_per_frame(spec: catalog.ModelSpec, height: int, width: int) -> float:
    """Convolution FLOPs (2 × MACs) of one frame, counted on the meta device (no compute)."""
    total = 0

    def count(module: nn.Module, _: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(module, nn.Conv2d)
        kh, kw = module.kernel_size
        total += 2 * module.in_channels * kh * kw * out.numel() // module.groups

    model = Upscaler(spec.network(), spec.scale).to("meta")
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros(1, 3, height, width, device="meta"))
    return total / 1e9


def openvino_runner(onnx_path: Path, precision: str) -> Runner:
    """Same compile settings as the Triton model.py (LATENCY hint, one request)."""
    import openvino as ov

    compiled = ov.Core().compile_model(
        str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
    )
    request = compiled.create_infer_request()
    return lambda frames: np.array(request.infer({0: frames})[0], copy=True)


def onnxruntime_runner(onnx_path: Path) -> Runner:
    """ONNX Runtime CPU session."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return lambda frames: session.run(["output"], {"input": frames})[0]


def triton_runner(url: str, model: str) -> Runner:
    """One gRPC client, one request per call."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(url)

    def run(frames: np.ndarray) -> np.ndarray:
        tensor = grpcclient.InferInput("input", list(frames.shape), "UINT8")
        tensor.set_data_from_numpy(frames)
        return client.infer(model, [tensor]).as_numpy("output")

    return run


def measure(runners: list[Runner], frames: np.ndarray, seconds: float) -> float:
    """Frames per second with one thread per runner, each looping for `seconds` after a warm-up."""
    for run in runners:
        run(frames)
        run(frames)

    def loop(run: Runner) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            run(frames)
            done += frames.shape[0]
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(len(runners)) as pool:
        total = sum(pool.map(loop, runners))
    return total / (time.perf_counter() - start)


def free_port() -> int:
    """A currently unused TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Benchmark every selected model on every runtime."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=catalog.DEFAULT_MODEL)
    parser.add_argument("--size", default="176x144", help="input WxH")
    parser.add_argument("--batch", default="1,4", help="comma-separated batch sizes")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--runtimes", default="openvino-bf16,openvino-f32,onnxruntime-fp32,triton-c1,triton-c2"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    specs = catalog.select(args.models)
    wanted = args.runtimes.split(",")
    build_onnx(specs, paths.ONNX_DIR)
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if any(name.startswith("triton") for name in wanted):
            build_cpu(specs, paths.ONNX_DIR, Path(tmp), ServingOptions())
            server = TritonServer(
                Path(tmp),
                http_port=free_port(),
                grpc_port=free_port(),
                metrics_port=free_port(),
                models=[s.name for s in specs],
                ready_timeout_s=300,
            ).start()
        try:
            for spec in specs:
                onnx_path = paths.ONNX_DIR / f"{spec.name}.onnx"
                gflop = gflop_per_frame(spec, height, width)
                for runtime in wanted:
                    if runtime.startswith("triton"):
                        assert server is not None
                        runners = [triton_runner(server.grpc_url, spec.name) for _ in range(int(runtime[-1]))]
                    elif runtime.startswith("openvino"):
                        runners = [openvino_runner(onnx_path, runtime.split("-")[1])]
                    else:
                        runners = [onnxruntime_runner(onnx_path)]
                    for batch in (int(b) for b in args.batch.split(",")):
                        frames = np.repeat(frame[None], batch, axis=0)
                        fps = measure(runners, frames, args.seconds)
                        row = {
                            "model": spec.name,
                            "runtime": runtime,
                            "input": f"{width}x{height}",
                            "batch": batch,
                            "frames_per_s": round(fps, 2),
                            "gflop_per_s": round(fps * gflop, 1),
                        }
                        rows.append(row)
                        print(
                            f"{spec.name:26} {runtime:17} {width}x{height:<5} {batch:>5} {fps:10.2f} "
                            f"{fps * gflop:10.1f}",
                            flush=True,
                        )
        finally:
            if server is not None:
                server.stop()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "nproc": os.cpu_count(),
            "loadavg_after": os.getloadavg(),
        },
        "gflop_per_frame": {s.name: round(gflop_per_frame(s, height, width), 2) for s in specs},
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
