"""``bench.gpu`` section 1: the whole pipeline, 1, 2 and 4 at once on one upscaler; the x264 ceiling."""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any


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

    from adapter.video import pipeline
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
    from adapter.inference.torch_backend import TorchUpscaler
    from adapter.video.decode import Decoder
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

    from adapter.video.encoder import Encoder, resolve_preset
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
