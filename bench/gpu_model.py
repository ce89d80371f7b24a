"""``bench.gpu`` sections 2 and 3: model-only frames/s (size, precision, batch, memory); graphs, compile."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.gpu_e2e import model_fps, weights_dir
from bench.gpu_parts import E2E_MODELS, SIZES


def section_model(args: argparse.Namespace, record: Any, budget: Any) -> None:
    """Model-only frames/s per model, size, precision and batch, with the peak device memory."""
    import torch

    from adapter.inference.torch_backend import TorchUpscaler
    from bench.gpu_parts import testsrc2

    cuda = args.device == "cuda"
    for model in args.models:
        for dtype in args.dtypes:
            if not budget.allows(args.seconds * 3):
                record.skip(f"model {model} {dtype}", "budget")
                continue
            upscaler = TorchUpscaler(
                model, device=args.device, dtype=dtype, weights_dir=weights_dir(args.weights, model)
            )
            for size in args.sizes:
                width, height = SIZES.get(size, (0, 0)) if size in SIZES else map(int, size.split("x"))
                frames = testsrc2(width, height, max(args.batches))
                for batch in args.batches:
                    if not budget.allows(args.seconds * 2):
                        record.skip(f"model {model} {dtype} {size} b{batch}", "budget")
                        continue
                    if cuda:
                        torch.cuda.reset_peak_memory_stats()
                    try:
                        fps: float | str = model_fps(upscaler, frames[:batch], args.seconds)
                    except torch.cuda.OutOfMemoryError:
                        fps = "out of memory"
                        torch.cuda.empty_cache()
                    peak = round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None
                    record.row(
                        "model",
                        model=model,
                        input=size,
                        dtype=dtype,
                        batch=batch,
                        in_flight=upscaler.in_flight,
                        fps=fps,
                        peak_gib=peak,
                    )
            upscaler.close()


def device_fps(forward: Any, x: Any, seconds: float) -> float:
    """Frames/s of ``forward`` on a device tensor, timed with CUDA events (no host copies)."""
    import torch

    forward(x)
    torch.cuda.synchronize()
    start, end, runs = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True), 0
    start.record()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        forward(x)
        runs += 1
    end.record()
    end.synchronize()
    return round(runs * x.shape[0] / (start.elapsed_time(end) / 1e3), 2)


def graphed(forward: Any, x: Any) -> Any:
    """``forward`` captured once into a CUDA graph on the static input ``x``; replays return its output."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            forward(x)  # warm-up outside the capture, as CUDA graphs require
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = forward(x)

    def replay(_: Any) -> Any:
        graph.replay()
        return out

    return replay


def section_graphs(args: argparse.Namespace, record: Any, budget: Any) -> None:
    """Eager vs CUDA graph vs torch.compile, 480p batch 4, fp16, device time only."""
    if args.device != "cuda":
        record.skip("graphs", "CUDA graphs and compile are measured on CUDA only")
        return
    import torch

    from adapter.inference.torch_backend import TorchUpscaler
    from bench.gpu_parts import testsrc2

    width, height = SIZES["480p"]
    for model in E2E_MODELS:
        upscaler = TorchUpscaler(model, device="cuda", weights_dir=weights_dir(args.weights, model))
        x = torch.from_numpy(testsrc2(width, height, 4)).cuda()
        with torch.inference_mode():
            modes: list[tuple[str, Any, float]] = [("eager", upscaler.forward, 5), ("cuda-graph", None, 15)]
            modes.append(("compile", None, 120))
            for mode, forward, estimate in modes:
                if not budget.allows(estimate + args.seconds):
                    record.skip(f"graphs {model} {mode}", "budget")
                    continue
                started = time.perf_counter()
                try:
                    if mode == "cuda-graph":
                        forward = graphed(upscaler.forward, x)
                    elif mode == "compile":
                        upscaler.network = torch.compile(upscaler.network)  # type: ignore[assignment]
                        forward = upscaler.forward
                    fps: float | str = device_fps(forward, x, args.seconds)
                except Exception as exc:  # a failed capture or compile is a finding, not the end of the run
                    fps = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
                setup = round(time.perf_counter() - started - args.seconds, 1)
                record.row("graphs", model=model, input="480p", batch=4, mode=mode, fps=fps, setup_s=setup)
        upscaler.close()
