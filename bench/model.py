"""Model throughput: in-process OpenVINO (LATENCY and THROUGHPUT hints), ONNX Runtime, Triton; table + JSON.

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
from dataclasses import asdict, replace
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


def openvino_runners(onnx_path: Path, precision: str, hint: str) -> list[Runner]:
    """In-process OpenVINO: one runner (thread) per infer request, OPTIMAL_NUMBER_OF_INFER_REQUESTS of them.

    LATENCY: one multi-threaded request; THROUGHPUT: one single-threaded stream per core, each with its own
    request, all in flight at once (what adapter.inference.upscalers.LocalUpscaler does).
    """
    import openvino as ov

    compiled = ov.Core().compile_model(
        str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": hint.upper()}
    )
    count = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))

    def runner() -> Runner:
        request = compiled.create_infer_request()
        return lambda frames: np.array(request.infer({0: frames}, share_inputs=True)[0], copy=True)

    return [runner() for _ in range(count)]


def onnxruntime_runner(onnx_path: Path) -> Runner:
    """ONNX Runtime CPU session."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return lambda frames: session.run(["output"], {"input": frames})[0]


def triton_runner(client: object, model: str) -> Runner:
    """One request at a time on a (shared, thread-safe) gRPC client."""
    import tritonclient.grpc as grpcclient

    assert isinstance(client, grpcclient.InferenceServerClient)

    def run(frames: np.ndarray) -> np.ndarray:
        tensor = grpcclient.InferInput("input", list(frames.shape), "UINT8")
        tensor.set_data_from_numpy(frames)
        return client.infer(model, [tensor]).as_numpy("output")

    return run


def triton_shm_runner(client: object, model: str, scale: int, frames: np.ndarray) -> Runner:
    """Tensors through this runner's own system shared memory regions (the adapter's shared_memory option)."""
    import tritonclient.grpc as grpcclient
    import tritonclient.utils.shared_memory as shm

    assert isinstance(client, grpcclient.InferenceServerClient)
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
    runtime: str, spec: catalog.ModelSpec, server: TritonServer | None, frames: np.ndarray, in_flight: int
) -> list[Runner]:
    """Runners (one thread each) for a runtime name.

    `openvino-<precision>[-latency|-throughput]`, `onnxruntime-fp32`, and `triton-cN` / `triton-shm-cN`:
    N adapter-like gRPC clients, each keeping `in_flight` requests running (one thread per request).
    """
    onnx_path = paths.ONNX_DIR / f"{spec.name}.onnx"
    if runtime.startswith("triton"):
        import tritonclient.grpc as grpcclient

        assert server is not None
        shared = runtime.startswith("triton-shm-c")
        clients = int(runtime.rsplit("-c", 1)[1])
        runners: list[Runner] = []
        for _ in range(clients):
            client = grpcclient.InferenceServerClient(server.grpc_url)
            for _ in range(in_flight):
                runners.append(
                    triton_shm_runner(client, spec.name, spec.scale, frames)
                    if shared
                    else triton_runner(client, spec.name)
                )
        return runners
    if runtime.startswith("openvino"):
        parts = runtime.split("-")
        return openvino_runners(onnx_path, parts[1], parts[2] if len(parts) > 2 else "latency")
    return [onnxruntime_runner(onnx_path)]


def bench_model(
    spec: catalog.ModelSpec,
    server: TritonServer | None,
    runtimes: list[str],
    frame: np.ndarray,
    batches: list[int],
    seconds: float,
    rounds: int,
    in_flight: int,
) -> list[dict[str, object]]:
    """Best-of-rounds frames/s and CPU ms/frame per runtime and batch; runtimes alternate within each round.

    Other jobs share this machine, so the best round is the one least disturbed; ratios compare Triton with
    the better in-process OpenVINO bf16 hint.
    """
    height, width = frame.shape[:2]
    gflop = gflop_per_frame(spec, height, width)
    server_pids = [server.pid] if server is not None and server.pid is not None else []
    rows: list[dict[str, object]] = []
    for batch in batches:
        frames = np.repeat(frame[None], batch, axis=0)
        runners = {runtime: make_runners(runtime, spec, server, frames, in_flight) for runtime in runtimes}
        fps_samples: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        cpu_samples: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        for runtime in runtimes:  # warm-up: first-call allocations and shape compilation
            measure(runners[runtime], frames, 0.5)
        for _ in range(rounds):
            for runtime in runtimes:
                cpu_before = process_cpu_s(server_pids)
                fps, count = measure(runners[runtime], frames, seconds)
                fps_samples[runtime].append(fps)
                cpu_samples[runtime].append((process_cpu_s(server_pids) - cpu_before) / count * 1000)
        references = [r for r in runtimes if r.startswith("openvino-bf16")]
        best_fps = max((max(fps_samples[r]) for r in references), default=0.0)
        best_cpu = min((min(cpu_samples[r]) for r in references), default=0.0)
        for runtime in runtimes:
            fps, cpu_ms = max(fps_samples[runtime]), min(cpu_samples[runtime])
            row: dict[str, object] = {
                "model": spec.name,
                "runtime": runtime,
                "input": f"{width}x{height}",
                "batch": batch,
                "threads": len(runners[runtime]),
                "frames_per_s": round(fps, 2),
                "frames_per_s_median": round(statistics.median(fps_samples[runtime]), 2),
                "gflop_per_s": round(fps * gflop, 1),
                "cpu_ms_per_frame": round(cpu_ms, 1),
                "cpu_ms_per_frame_median": round(statistics.median(cpu_samples[runtime]), 1),
                "fps_samples": [round(v, 2) for v in fps_samples[runtime]],
                "cpu_ms_samples": [round(v, 1) for v in cpu_samples[runtime]],
            }
            if references:
                row["fps_vs_best_in_process"] = round(fps / best_fps, 3)
                row["cpu_efficiency_vs_best_in_process"] = round(best_cpu / cpu_ms, 3)
            rows.append(row)
            print(
                f"{spec.name:24} {runtime:26} {width}x{height:<4} {batch:>5} {len(runners[runtime]):>3} "
                f"{fps:9.2f} {fps * gflop:8.1f} {cpu_ms:8.1f} {row.get('fps_vs_best_in_process', '-'):>8} "
                f"{row.get('cpu_efficiency_vs_best_in_process', '-'):>8}",
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
    parser.add_argument("--rounds", type=int, default=4, help="runtimes alternate each round (shared CPUs)")
    parser.add_argument("--in-flight", type=int, default=2, help="requests each Triton client keeps running")
    parser.add_argument(
        "--runtimes",
        default="openvino-bf16-latency,openvino-bf16-throughput,triton-c1,triton-c2,triton-shm-c1,triton-shm-c2",
        help="also: openvino-f32-latency, onnxruntime-fp32",
    )
    defaults = ServingOptions()
    parser.add_argument(
        "--hint", default=defaults.hint, choices=["throughput", "latency"], help="Triton model"
    )
    parser.add_argument("--instances", type=int, default=defaults.instances, help="Triton model instances")
    parser.add_argument("--streams", type=int, default=defaults.streams, help="Triton model OpenVINO streams")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="Triton model OpenVINO threads")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    specs = catalog.select(args.models)
    wanted = args.runtimes.split(",")
    serving = replace(
        defaults, hint=args.hint, instances=args.instances, streams=args.streams, threads=args.threads
    )
    build_onnx(specs, paths.ONNX_DIR)
    load_before = os.getloadavg()
    print(f"Triton model: {asdict(serving)}; {args.in_flight} requests in flight per client")
    print(
        f"{'model':24} {'runtime':26} {'input':9} {'batch':>5} {'thr':>3} {'frames/s':>9} {'GFLOP/s':>8} "
        f"{'CPU ms/f':>8} {'fps/best':>8} {'cpu eff':>8}"
    )
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if any(name.startswith("triton") for name in wanted):
            build_cpu(specs, paths.ONNX_DIR, Path(tmp), serving)
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
                    args.in_flight,
                )
        finally:
            if server is not None:
                server.stop()
            for cleanup in _CLEANUP:
                cleanup()
    print(f"nproc {os.cpu_count()}, load average before {load_before}, after {os.getloadavg()}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_name(),
            "nproc": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "triton_serving": asdict(serving),
        "in_flight_per_client": args.in_flight,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "gflop_per_frame": {s.name: round(gflop_per_frame(s, height, width), 2) for s in specs},
        "rows": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
