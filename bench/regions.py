"""Region inference against full frames on four 640×360 clips (bench/region_clips.py), CRF 23 sources.

Both runs go through the pipeline's own stage threads (``adapter.video.flow.Flow``: decode, batches, requests
in flight, the canvas in the resize stage) with the encoder replaced by a collector, so the figures are
the model side's frames/s and CPU time, and the outputs can be compared frame by frame. Reported per clip:
full-frame and region frames/s (wall and CPU ms per frame), the share of pixels inferred (after dilation
and padding), PSNR and the worst 16×16-block mean error of the region output against the full-frame one,
the seam error (mean error within 2 px of a pasted rectangle's inner edges / elsewhere), and the flicker
of both (mean difference between an output and the previous one warped by the input's optical flow).
For realesrgan-x4plus only its field and the share its planner would infer (no inference: too slow here).
Run: ``.venv/bin/python -m bench.regions [--frames 8] [--rate 8] [--triton]``; writes
bench/results/regions.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from adapter.inference.base import Upscaler
from adapter.inference.upscalers import make_upscaler
from adapter.regions.field import FIELDS
from adapter.regions.planner import Planner, Work
from adapter.video.decode import Decoder
from adapter.video.encoder import Encoder
from adapter.video.flow import Flow, Meter
from bench.pipeline import decoded_frames, free_port, own_cpu, tree_cpu
from bench.region_clips import CLIPS, encoded

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x4"
SEAM_PX = 2


class Collector:
    """Stands in for the encoder: keeps every output frame."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def write(self, rgb: np.ndarray, pts: int) -> None:
        self.frames.append(rgb)

    def close(self, *, flush: bool = True) -> None:
        """Nothing to flush."""


class Recording(Planner):
    """A planner that keeps its decisions (for the seam error)."""

    works: list[Work]

    def plan(self, frame: np.ndarray, *, key: bool = False) -> Work:
        work = super().plan(frame, key=key)
        self.works.append(work)
        return work


def run_flow(
    path: Path, upscaler: Upscaler, planner: Planner | None, frames: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    """One pass of the stage threads over ``path``: outputs, wall and CPU seconds."""
    decoder, collector = Decoder(path), Collector()
    flow = Flow(
        decoder,
        upscaler,
        lambda: cast(Encoder, collector),
        size=(decoder_size(path)[0] * upscaler.scale, decoder_size(path)[1] * upscaler.scale),
        frames_total=frames,
        segment=None,
        regions=planner,
    )
    wall, used = time.monotonic(), cpu()
    flow.run(lambda: False, Meter(None))
    wall, used = time.monotonic() - wall, cpu() - used
    return {"outputs": collector.frames, "wall": wall, "cpu": used, "share": flow.share}


def decoder_size(path: Path) -> tuple[int, int]:
    """Width and height of the clip's frames."""
    frame = decoded_frames(path)[0]
    return frame.shape[1], frame.shape[0]


def block_errors(a: np.ndarray, b: np.ndarray, block: int = 16) -> np.ndarray:
    """Mean absolute error of each block×block block (all channels)."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2)
    h, w = (diff.shape[0] // block) * block, (diff.shape[1] // block) * block
    return diff[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))


def seam_mask(work: Work, shape: tuple[int, int], scale: int) -> np.ndarray:
    """Output pixels within SEAM_PX of an inner edge of a pasted rectangle."""
    mask = np.zeros(shape, bool)
    h, w = shape
    for crop in work.crops:
        p = crop.paste
        top, left, bottom, right = p.y * scale, p.x * scale, (p.y + p.h) * scale, (p.x + p.w) * scale
        for edge, inner in ((top, top > 0), (bottom, bottom < h)):
            if inner:
                mask[max(0, edge - SEAM_PX) : edge + SEAM_PX, left:right] = True
        for edge, inner in ((left, left > 0), (right, right < w)):
            if inner:
                mask[top:bottom, max(0, edge - SEAM_PX) : edge + SEAM_PX] = True
    return mask


def pasted_mask(work: Work, shape: tuple[int, int], scale: int) -> np.ndarray:
    """Output pixels that the crops of ``work`` replaced."""
    mask = np.zeros(shape, bool)
    for crop in work.crops:
        p = crop.paste
        mask[p.y * scale : (p.y + p.h) * scale, p.x * scale : (p.x + p.w) * scale] = True
    return mask


def flicker(inputs: np.ndarray, outputs: list[np.ndarray], scale: int) -> float:
    """Mean |output − previous output warped by the input's optical flow| (8-bit levels)."""
    errors = []
    for i in range(1, len(outputs)):
        a, b = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (inputs[i], inputs[i - 1]))
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        big = (
            cv2.resize(flow, (outputs[i].shape[1], outputs[i].shape[0]), interpolation=cv2.INTER_LINEAR)
            * scale
        )
        ys, xs = np.mgrid[0 : outputs[i].shape[0], 0 : outputs[i].shape[1]].astype(np.float32)
        warped = cv2.remap(outputs[i - 1], xs + big[..., 0], ys + big[..., 1], cv2.INTER_LINEAR)
        errors.append(float(np.abs(outputs[i].astype(np.int16) - warped.astype(np.int16)).mean()))
    return round(float(np.mean(errors)), 3) if errors else 0.0


def compare(
    inputs: np.ndarray, full: list[np.ndarray], regions: list[np.ndarray], works: list[Work]
) -> dict[str, Any]:
    """PSNR, worst block error, seam error and flicker of the region output against the full-frame one."""
    mse = float(
        np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(full, regions, strict=True)])
    )
    sums = {"seam": [0.0, 0], "inside": [0.0, 0], "outside": [0.0, 0]}
    for a, b, work in zip(full[1:], regions[1:], works[1:], strict=False):
        if work.full or not work.crops:
            continue
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2)
        seam, pasted = seam_mask(work, diff.shape, 4), pasted_mask(work, diff.shape, 4)
        for name, mask in (("seam", seam), ("inside", pasted & ~seam), ("outside", ~pasted & ~seam)):
            sums[name][0] += float(diff[mask].sum())
            sums[name][1] += int(mask.sum())
    mean = {name: round(total / count, 3) if count else None for name, (total, count) in sums.items()}
    return {
        "psnr_db": round(10 * np.log10(255**2 / mse), 2) if mse > 0 else float("inf"),
        "worst_block": round(
            max(float(block_errors(a, b).max()) for a, b in zip(full, regions, strict=True)), 2
        ),
        "seam_error": mean["seam"],
        "inside_error": mean["inside"],
        "outside_error": mean["outside"],
        "flicker_full": flicker(inputs, full, 4),
        "flicker_regions": flicker(inputs, regions, 4),
    }


def measure_clip(
    name: str, path: Path, upscaler: Upscaler, rate: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    """Full frames vs regions on one clip."""
    inputs = decoded_frames(path)
    # The runtime's first call at a frame size sets it up (OpenVINO: kernels for that shape); not the
    # full-frame run's to pay. The region run pays for its bucket sizes' first calls itself.
    upscaler.infer(inputs[:1])
    full = run_flow(path, upscaler, None, len(inputs), cpu)
    planner = Recording(FIELDS[MODEL] or 0, rate)
    planner.works = []
    regions = run_flow(path, upscaler, planner, len(inputs), cpu)
    n = len(inputs)
    row: dict[str, Any] = {
        "clip": name,
        "frames": n,
        "fps_full": round(n / full["wall"], 3),
        "fps_regions": round(n / regions["wall"], 3),
        "cpu_ms_full": round(1000 * full["cpu"] / n),
        "cpu_ms_regions": round(1000 * regions["cpu"] / n),
        "share": regions["share"],
        # Without the run's first frame (always whole): what a longer clip tends to between refreshes.
        "share_after_start": round(float(np.mean([w.share for w in planner.works[1:]])), 4),
        "whys": [w.why for w in planner.works],
    }
    row["speedup"] = round(row["fps_regions"] / row["fps_full"], 3)
    row["speedup_cpu"] = round(full["cpu"] / regions["cpu"], 3)
    row["target_speedup"] = round(0.8 / max(row["share"], 1e-6), 3)
    row.update(compare(inputs, full["outputs"], regions["outputs"], planner.works))
    row["share_x4plus"] = x4plus_share(inputs, rate)
    return row


def x4plus_share(inputs: np.ndarray, rate: int) -> float:
    """The share realesrgan-x4plus's planner would send to the model (its field is several times larger)."""
    planner = Planner(FIELDS["realesrgan-x4plus"] or 0, rate)
    for frame in inputs:
        planner.plan(frame)
    return round(planner.share, 4)


def through_triton(clips: dict[str, Path], rate: int, folder: Path) -> list[dict[str, Any]]:
    """The same rows through a tritonserver on the CPU model repository (CPU: this process + the server)."""
    from model_convertation import catalog
    from model_convertation.builder import build_cpu
    from model_convertation.repository import ServingOptions
    from model_convertation.server import TritonServer

    repo = folder / "repo"
    build_cpu(catalog.select(MODEL), ROOT / ".models" / "onnx", repo, ServingOptions())
    server = TritonServer(
        repo,
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=free_port(),
        models=[MODEL],
        ready_timeout_s=300,
    )
    server.start()
    pid = server.pid or 0
    rows = []
    try:
        remote = make_upscaler(MODEL, server.grpc_url, ROOT / ".models" / "onnx", 600)

        def cpu() -> float:
            return own_cpu() + tree_cpu(pid)

        for name, path in clips.items():
            rows.append({"backend": "triton", **measure_clip(name, path, remote, rate, cpu)})
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "whys"}), flush=True)
        remote.close()
    finally:
        server.stop()
    return rows


def redo_x4plus(frames: int, rate: int) -> None:
    """Recompute share_x4plus of every row in the existing JSON (the planner alone: no inference)."""
    out = ROOT / "bench" / "results" / "regions.json"
    result = json.loads(out.read_text())
    with tempfile.TemporaryDirectory() as folder:
        shares = {
            name: x4plus_share(decoded_frames(encoded(name, frames, Path(folder), rate)), rate)
            for name in CLIPS
        }
    for row in result["rows"]:
        row["share_x4plus"] = shares[row["clip"]]
    result["fields"] = FIELDS
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(shares))


def main() -> None:
    """Build the clips, run every clip both ways, print a table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--rate", type=int, default=8)
    parser.add_argument("--clips", default=",".join(CLIPS))
    parser.add_argument("--triton", action="store_true", help="also through a tritonserver started here")
    parser.add_argument("--x4plus-only", action="store_true", help="only redo share_x4plus in the JSON")
    parser.add_argument("--out", default="regions", help="name of the JSON under bench/results/")
    args = parser.parse_args()
    if args.x4plus_only:
        return redo_x4plus(args.frames, args.rate)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        clips = {name: encoded(name, args.frames, Path(folder), args.rate) for name in args.clips.split(",")}
        local = make_upscaler(MODEL, None, ROOT / ".models" / "onnx", 600)
        for name, path in clips.items():
            rows.append({"backend": "in-process", **measure_clip(name, path, local, args.rate, own_cpu)})
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "whys"}), flush=True)
        local.close()
        if args.triton:
            rows += through_triton(clips, args.rate, Path(folder))
    result = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "model": MODEL,
        "frames": args.frames,
        "rate": args.rate,
        "fields": FIELDS,
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / f"{args.out}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    keys = [
        "backend",
        "clip",
        "fps_full",
        "fps_regions",
        "speedup",
        "target_speedup",
        "share",
        "psnr_db",
        "worst_block",
    ]
    keys += ["cpu_ms_full", "cpu_ms_regions", "speedup_cpu", "share_after_start"]
    keys += ["seam_error", "inside_error", "outside_error", "flicker_full", "flicker_regions", "share_x4plus"]
    print("| " + " | ".join(keys) + " |")
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
