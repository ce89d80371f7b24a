"""Model throughput: in-process OpenVINO (bf16/f32), ONNX Runtime and Triton gRPC; table + JSON.

Run from the project root: `.venv/bin/python -m bench.model [--models a,b] [--size 176x144] [--seconds 8]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import socket
import statistics
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


def triton_shm_runner(url: str, model: str, scale: int, frames: np.ndarray) -> Runner:
    """One gRPC client passing tensors through system shared memory (the adapter's shared_memory option)."""
    import tritonclient.grpc as grpcclient
    import tritonclient.utils.shared_memory as shm

    client = grpcclient.InferenceServerClient(url)
    out_shape = (frames.shape[0], frames.shape[1] * scale, frames.shape[2] * scale, 3)
    tag = f"bench{os.getpid()}_{id(frames)}_{next(_REGIONS)}"
    regions = {}
    for role, nbytes in (("in", frames.nbytes), ("out", int(np.prod(out_shape)))):
        name = f"{tag}_{role}"
        regions[role] = (name, shm.create_shared_memory_region(name, f"/{name}", nbytes), nbytes)
        client.register_system_shared_memory(name, f"/{name}", nbytes)
    _CLEANUP.append(lambda: [shm.destroy_shared_memory_region(h) for _, h, _ in regions.values()])

    def run(batch: np.ndarray) -> np.ndarray:
        in_name, in_handle, in_bytes = regions["in"]
        out_name, out_handle, out_bytes = regions["out"]
        shm.set_shared_memory_region(in_handle, [batch])
        tensor = grpcclient.InferInput("input", list(batch.shape), "UINT8")
        tensor.set_shared_memory(in_name, in_bytes)
        output = grpcclient.InferRequestedOutput("output")
        output.set_shared_memory(out_name, out_bytes)
        client.infer(model, [tensor], outputs=[output])
        return np.array(shm.get_contents_as_numpy(out_handle, np.uint8, out_shape), copy=True)

    return run


_REGIONS = itertools.count()
_CLEANUP: list[Callable[[], object]] = []


def process_cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by this process and `pids` and their children."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    wanted = set(pids)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid in wanted or ppid in wanted:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure(runners: list[Runner], frames: np.ndarray, seconds: float) -> tuple[float, int]:
    """(frames per second, frames) with one thread per runner, each looping for `seconds`."""

    def loop(run: Runner) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            run(frames)
            done += frames.shape[0]
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(len(runners)) as pool:
        total = sum(pool.map(loop, runners))
    return total / (time.perf_counter() - start), total


def make_runners(
    runtime: str, spec: catalog.ModelSpec, server: TritonServer | None, frames: np.ndarray
) -> list[Runner]:
    """Runner(s) for one runtime name; `triton-cN` / `triton-shm-cN` mean N concurrent gRPC clients."""
    onnx_path = paths.ONNX_DIR / f"{spec.name}.onnx"
    if runtime.startswith("triton"):
        assert server is not None
        if runtime.startswith("triton-shm-c"):
            count = int(runtime.removeprefix("triton-shm-c"))
            return [triton_shm_runner(server.grpc_url, spec.name, spec.scale, frames) for _ in range(count)]
        return [
            triton_runner(server.grpc_url, spec.name) for _ in range(int(runtime.removeprefix("triton-c")))
        ]
    if runtime.startswith("openvino"):
        return [openvino_runner(onnx_path, runtime.split("-")[1])]
    return [onnxruntime_runner(onnx_path)]


def bench_model(
    spec: catalog.ModelSpec,
    server: TritonServer | None,
    runtimes: list[str],
    frame: np.ndarray,
    batches: list[int],
    seconds: float,
    rounds: int,
) -> list[dict[str, object]]:
    """Median frames/s and CPU ms/frame per runtime and batch; runtimes alternate within each round."""
    height, width = frame.shape[:2]
    gflop = gflop_per_frame(spec, height, width)
    server_pids = [server.pid] if server is not None and server.pid is not None else []
    rows: list[dict[str, object]] = []
    for batch in batches:
        frames = np.repeat(frame[None], batch, axis=0)
        runners = {runtime: make_runners(runtime, spec, server, frames) for runtime in runtimes}
        fps_samples: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        cpu_samples: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        for runtime in runtimes:  # warm-up: first-call allocations and shape compilation
            for run in runners[runtime]:
                run(frames)
        for _ in range(rounds):
            for runtime in runtimes:
                cpu_before = process_cpu_s(server_pids)
                fps, count = measure(runners[runtime], frames, seconds)
                fps_samples[runtime].append(fps)
                cpu_samples[runtime].append((process_cpu_s(server_pids) - cpu_before) / count * 1000)
        for runtime in runtimes:
            fps, cpu_ms = statistics.median(fps_samples[runtime]), statistics.median(cpu_samples[runtime])
            row: dict[str, object] = {
                "model": spec.name,
                "runtime": runtime,
                "input": f"{width}x{height}",
                "batch": batch,
                "frames_per_s": round(fps, 2),
                "gflop_per_s": round(fps * gflop, 1),
                "cpu_ms_per_frame": round(cpu_ms, 1),
                "fps_samples": [round(v, 2) for v in fps_samples[runtime]],
            }
            if "openvino-bf16" in fps_samples:
                paired = zip(fps_samples[runtime], fps_samples["openvino-bf16"], strict=True)
                row["fps_vs_openvino_bf16"] = round(statistics.median(t / o for t, o in paired), 3)
                row["cpu_efficiency_vs_openvino_bf16"] = round(
                    statistics.median(cpu_samples["openvino-bf16"]) / cpu_ms, 3
                )
            rows.append(row)
            print(
                f"{spec.name:24} {runtime:16} {width}x{height:<4} {batch:>5} {fps:9.2f} {fps * gflop:8.1f} "
                f"{cpu_ms:8.1f} {row.get('fps_vs_openvino_bf16', '-'):>8} "
                f"{row.get('cpu_efficiency_vs_openvino_bf16', '-'):>8}",
                flush=True,
            )
    return rows


def cpu_name() -> str:
    """CPU model from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


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
    parser.add_argument("--seconds", type=float, default=3.0, help="per runtime and round")
    parser.add_argument("--rounds", type=int, default=5, help="runtimes alternate each round (shared CPUs)")
    parser.add_argument(
        "--runtimes",
        default="openvino-bf16,openvino-f32,onnxruntime-fp32,triton-c1,triton-c2,triton-shm-c1",
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    specs = catalog.select(args.models)
    wanted = args.runtimes.split(",")
    build_onnx(specs, paths.ONNX_DIR)
    print(
        f"{'model':24} {'runtime':16} {'input':9} {'batch':>5} {'frames/s':>9} {'GFLOP/s':>8} "
        f"{'CPU ms/f':>8} {'fps/OV':>8} {'cpu eff':>8}"
    )
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
                rows += bench_model(
                    spec,
                    server,
                    wanted,
                    frame,
                    [int(b) for b in args.batch.split(",")],
                    args.seconds,
                    args.rounds,
                )
        finally:
            if server is not None:
                server.stop()
            for cleanup in _CLEANUP:
                cleanup()
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_name(),
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
