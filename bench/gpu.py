"""GPU benchmark for a lent machine: end-to-end pipeline frames/s first, then model-only, then graphs/compile.

In order of value, so that a run cut short by ``--budget-s`` still answers the main question:
1. ``e2e``: frames/s of the whole pipeline (decode → TorchUpscaler → resize → x264 → ffmpeg mux) on a
   generated 480p clip, realesr-animevideov3-x4 and realesrgan-x4plus, with 1, 2 and 4 pipelines sharing
   the device; beside it the model-only frames/s on the same frames and batches, the device's busy share
   (CUDA events; NVML utilisation when ``pynvml`` imports) and the process's CPU use;
   ``x264`` rows: the encoder alone at the output size, 1 and 4 at once (the CPU's ceiling).
2. ``model``: model-only frames/s for each model at 480p and 720p, batch 1/4/8, fp16 and bf16, peak memory.
3. ``graphs``: eager vs CUDA graph vs ``torch.compile`` at 480p batch 4 (device time only, no copies).
Writes ``<out>/gpu.json`` after every row and prints each row, then a summary table.

Run (here): ``python -m bench.gpu --device cpu --quick --out /tmp/gpu``; on a lent GPU see docs/gpu.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench import kit

E2E_MODELS = ("realesr-animevideov3-x4", "realesrgan-x4plus")
SIZES = {"480p": (854, 480), "720p": (1280, 720)}


def weights_dir(folders: list[Path], model: str) -> Path | None:
    """The kit folder holding ``model``'s weights, or None (then they come from the ncnn package)."""
    return next((folder for folder in folders if (folder / f"{model}.pth").is_file()), None)


def cpu_seconds() -> float:
    """CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Nvml:
    """GPU utilisation sampled every 100 ms by NVML while ``with`` is open; None without pynvml."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handle: Any = pynvml.nvmlDeviceGetHandleByIndex(0)
            self._nvml: Any = pynvml
        except Exception:  # no pynvml, no driver: the CUDA-event busy share still stands
            self._nvml = None

    def __enter__(self) -> Nvml:
        if self._nvml is not None:
            threading.Thread(target=self._sample, daemon=True).start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.samples.append(int(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu))

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def mean(self) -> float | None:
        """Mean utilisation in percent, or None."""
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def busy_share(
    upscaler: Any, started_event: Any, wall_spans: list[tuple[float, float]], wall: float
) -> float:
    """Share of the wall time the device had a batch (CUDA events), or the model had a call (CPU)."""
    from bench.gpu_parts import union_share

    if upscaler.spans is not None and started_event is not None:
        spans = [
            (started_event.elapsed_time(a) / 1e3, started_event.elapsed_time(b) / 1e3)
            for a, b in upscaler.spans
        ]
        return union_share(spans, wall)
    return union_share(wall_spans, wall)


def run_pipelines(
    upscaler: Any, clip: Path, info: Any, model: str, count: int, folder: Path
) -> dict[str, Any]:
    """``count`` pipelines at once on one upscaler: total frames/s, busy share, CPU use."""
    import torch

    from adapter import pipeline
    from contract.messages import JobOptions

    cuda = upscaler.torch_device.type == "cuda"
    wall_spans: list[tuple[float, float]] = []
    inner = upscaler.infer

    def timed_infer(batch: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(batch)
        finally:
            wall_spans.append((start, time.perf_counter()))

    upscaler.infer, upscaler.spans = timed_infer, ([] if cuda else None)
    first = torch.cuda.Event(enable_timing=True) if cuda else None
    results: list[Any] = [None] * count

    def one(slot: int) -> None:
        results[slot] = pipeline.run(
            clip, folder / f"out{slot}.mp4", JobOptions(model=model), upscaler, info=info
        )

    threads = [threading.Thread(target=one, args=(slot,)) for slot in range(count)]
    with Nvml() as nvml:
        cpu0, started = cpu_seconds(), time.perf_counter()
        if first is not None:
            first.record()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    if cuda:
        torch.cuda.synchronize()
    share = busy_share(upscaler, first, [(a - started, b - started) for a, b in wall_spans], wall)
    upscaler.infer, upscaler.spans = inner, None
    if any(result is None for result in results):
        raise RuntimeError("a pipeline failed (see its traceback above)")
    frames = sum(result.frames for result in results)
    return {
        "fps": round(frames / wall, 2),
        "busy_share": share,
        "nvml_util_pct": nvml.mean(),
        "cpu_cores_used": round((cpu_seconds() - cpu0) / wall, 1),
        "output": f"{results[0].width}x{results[0].height}",
    }


def model_fps(upscaler: Any, batch: Any, seconds: float) -> float:
    """Frames/s of ``infer`` on ``batch`` from ``in_flight`` threads (host copies included)."""
    from bench.gpu_parts import loop_for

    upscaler.infer(batch)  # warm-up: cuDNN picks its algorithms for this shape
    return round(loop_for(seconds, upscaler.in_flight, lambda: len(upscaler.infer(batch))), 2)


def section_e2e(args: argparse.Namespace, record: Any, budget: Any, folder: Path) -> None:
    """Whole-pipeline frames/s with 1, 2, 4 pipelines, beside model-only frames/s on the same batches."""
    from adapter.torch_backend import TorchUpscaler
    from adapter.video import Decoder
    from bench.gpu_parts import make_clip, media_info

    width, height = args.e2e_size
    clip = make_clip(folder / "clip.mp4", width, height, args.e2e_frames)
    info = media_info(clip)
    decoder = Decoder(clip, info)
    import numpy as np

    frames = np.stack([rgb for rgb, _ in decoder.frames()])
    colour = decoder.colour
    decoder.close()
    for model in args.e2e_models:
        if not budget.allows(10):
            record.skip(f"e2e {model}", "budget")
            continue
        upscaler = TorchUpscaler(model, device=args.device, weights_dir=weights_dir(args.weights, model))
        alone = model_fps(upscaler, frames[: upscaler.max_batch], args.seconds)
        for count in args.pipelines:
            if not budget.allows(5):
                record.skip(f"e2e {model} x{count}", "budget")
                continue
            figures = run_pipelines(upscaler, clip, info, model, count, folder)
            record.row(
                "e2e",
                model=model,
                input=f"{width}x{height}",
                pipelines=count,
                batch=upscaler.max_batch,
                in_flight=upscaler.in_flight,
                model_only_fps=alone,
                ratio=round(figures["fps"] / alone, 3),
                **figures,
            )
        upscaler.close()
    section_x264(args, record, budget, frames, colour)


def section_x264(args: argparse.Namespace, record: Any, budget: Any, frames: Any, colour: Any) -> None:
    """The encoder alone at the x4 output size: the CPU's ceiling for a fast model."""
    import cv2

    from adapter.video import Encoder, resolve_preset
    from bench.gpu_parts import RATE
    from contract.messages import JobOptions

    options = JobOptions()
    preset = resolve_preset(options.preset, options.encoder, "gpu" if args.device == "cuda" else "cpu")
    height, width = frames.shape[1] * 4, frames.shape[2] * 4
    big = [cv2.resize(frame, (width, height), interpolation=cv2.INTER_NEAREST) for frame in frames[:8]]
    for count in args.pipelines:
        if not budget.allows(5):
            record.skip(f"x264 x{count}", "budget")
            continue
        done = [0] * count

        def encode(slot: int, folder: str) -> None:
            encoder = Encoder(
                Path(folder) / f"x{slot}.mp4",
                width=width,
                height=height,
                time_base=Fraction(1, RATE),
                fps=Fraction(RATE),
                colour=colour,
                encoder=options.encoder,
                crf=options.crf,
                preset=preset,
            )
            for index in range(len(frames)):
                encoder.write(big[index % len(big)], index)
                done[slot] += 1  # noqa: B023 (each thread's own slot, bound by the call)
            encoder.close()

        with tempfile.TemporaryDirectory() as folder:
            threads = [threading.Thread(target=encode, args=(slot, folder)) for slot in range(count)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
        record.row(
            "x264", output=f"{width}x{height}", preset=preset, encoders=count, fps=round(sum(done) / wall, 2)
        )


def section_model(args: argparse.Namespace, record: Any, budget: Any) -> None:
    """Model-only frames/s per model, size, precision and batch, with the peak device memory."""
    import torch

    from adapter.torch_backend import TorchUpscaler
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

    from adapter.torch_backend import TorchUpscaler
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


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks everything to a CPU smoke test."""
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    cli.add_argument(
        "--budget-s", type=float, default=240, help="wall seconds for the whole run (default 240)"
    )
    cli.add_argument("--out", type=Path, default=None, help="folder for gpu.json (written after every row)")
    cli.add_argument("--quick", action="store_true", help="tiny sizes, one model: a smoke test for CI")
    cli.add_argument("--seconds", type=float, default=None, help="seconds per model-only figure")
    args = cli.parse_args(argv)
    from contract.messages import MODELS

    if args.quick:
        args.e2e_size, args.e2e_frames, args.e2e_models, args.pipelines = (128, 72), 8, E2E_MODELS[:1], (1, 2)
        args.models, args.sizes, args.batches = E2E_MODELS[:1], ("64x48",), (1, 2)
        args.seconds = args.seconds or 0.5
    else:
        args.e2e_size, args.e2e_frames, args.e2e_models, args.pipelines = (
            SIZES["480p"],
            100,
            E2E_MODELS,
            (1, 2, 4),
        )
        args.models, args.sizes, args.batches = tuple(MODELS), ("480p", "720p"), (1, 4, 8)
        args.seconds = args.seconds or 2.0
    args.dtypes = ("fp16", "bf16") if args.device == "cuda" else ("fp32",)
    return args


def meta(args: argparse.Namespace) -> dict[str, Any]:
    """What ran where."""
    import torch

    from bench.gpu_parts import cpu_name, now

    cuda = args.device == "cuda"
    return {
        "started": now(),
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "budget_s": args.budget_s,
        "quick": args.quick,
        "ffmpeg": os.environ.get("FFMPEG_BINARY") or "ffmpeg",
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sections in order of value until the budget runs out; print the rows and a summary."""
    weights = kit.activate()
    if absent := kit.missing():
        print(f"missing: {', '.join(absent)}; carry and unpack the kits first (docs/gpu.md)", file=sys.stderr)
        return 2
    args = parse(argv)
    args.weights = weights
    from bench.gpu_parts import Budget, Record

    budget = Budget(args.budget_s)
    record = Record(args.out, meta(args))
    with tempfile.TemporaryDirectory() as folder:
        for section in (section_e2e, section_model, section_graphs):
            try:
                if budget.allows(5):
                    section(args, record, budget, *([Path(folder)] if section is section_e2e else []))
                else:
                    record.skip(section.__name__, "budget")
            except Exception as exc:  # one broken section must not cost the others their figures
                record.skip(section.__name__, f"failed: {type(exc).__name__}: {exc}")
                import traceback

                traceback.print_exc()
    record.finish()
    print(summary(record.data["rows"]))
    return 0


def summary(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table of all rows, one section after another."""
    lines = []
    for section in ("e2e", "x264", "model", "graphs"):
        chosen = [row for row in rows if row["section"] == section]
        if not chosen:
            continue
        keys = [key for key in chosen[0] if key != "section"]
        widths = [max(len(key), *(len(str(row.get(key))) for row in chosen)) for key in keys]
        lines.append(f"## {section}")
        lines.append(" | ".join(key.rjust(width) for key, width in zip(keys, widths, strict=True)))
        lines += [
            " | ".join(str(row.get(k)).rjust(w) for k, w in zip(keys, widths, strict=True)) for row in chosen
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
