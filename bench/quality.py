"""Quality bench: every model at strengths 0.25–1 and auto vs encoded bicubic/Lanczos, on photo and animation.

Prints the no-reference metrics' sanity check first (bench/noref.py) and scores only with the metrics that
pass it; the metric of record is NIQE when it passes, else the first that does. Inputs are bench/clips.py's
clips (4 photographs and 2 cel scenes × 3 degradation levels, real libx264 encodes). Every method writes the
reference size (2x: the x4/x3 models are area-shrunk by the pipeline's resize), then goes through the *same*
libx264 encode (CRF 18, veryfast) and decode, because the encoder moves these metrics more than the upscaler.
Fidelity: PSNR/SSIM against the reference (area-downscaled to it when larger). Temporal stability:
bench/flicker.py's motion-compensated difference relative to encoded bicubic (1.0 = as stable).
Run ``.venv/bin/python -m bench.quality [--models a,b]``; writes bench/results/quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from adapter.inference.upscalers import make_upscaler
from adapter.restoration.degradation import Degradation, clean_strength, estimate
from adapter.restoration.strength import blend
from adapter.video.flow import resize
from bench import flicker
from bench.clips import REFERENCE, Clip, Frames, clips
from bench.noref import METRICS, sanity_check
from bench.pipeline import decoded_frames
from bench.verdict import verdicts
from contract.models import CATALOGUE, served_name
from model_convertation import catalog
from model_convertation.export import export_onnx
from tests.fixtures.media import encode_frames

ROOT = Path(__file__).resolve().parents[1]
STRENGTHS: tuple[float | str, ...] = (0.25, 0.5, 0.75, 1.0, "auto")
CRF, PRESET = 18, "veryfast"


def encoded(frames: Frames) -> Frames:
    """The frames after the output's own libx264 encode and a decode."""
    with tempfile.TemporaryDirectory() as folder:
        return decoded_frames(encode_frames(Path(folder) / "o.mp4", frames, rate=25, crf=CRF, preset=PRESET))


Stability = tuple[list[Any], float]  # a clip's reference flows and encoded bicubic's flicker on them


def score(out: Frames, clip: Clip, stable: Stability | None, metrics: list[str]) -> dict[str, float]:
    """No-reference scores of the last frame, fidelity over the clip, flicker relative to bicubic."""
    width, height = clip.reference.shape[2], clip.reference.shape[1]
    shrunk = [resize(frame, width, height) for frame in out]
    values = {name: round(METRICS[name](out[-1]), 2) for name in metrics}
    values["psnr_db"] = round(
        float(
            np.mean(
                [
                    peak_signal_noise_ratio(r, o, data_range=255)
                    for r, o in zip(clip.reference, shrunk, strict=True)
                ]
            )
        ),
        2,
    )
    values["ssim"] = round(
        float(
            np.mean(
                [
                    structural_similarity(r, o, channel_axis=2, data_range=255)
                    for r, o in zip(clip.reference, shrunk, strict=True)
                ]
            )
        ),
        4,
    )
    if stable is not None:
        flows, base = stable
        values["flicker_rel"] = round(flicker.flicker(out, flows=flows) / max(1e-6, base), 3)
    return values


def baselines(clip: Clip, metrics: list[str]) -> tuple[list[dict[str, Any]], Stability]:
    """Bicubic and Lanczos to the reference size, encoded like the output; the clip's flicker baseline."""
    flows = flicker.motions(clip.reference, REFERENCE)
    rows: list[dict[str, Any]] = []
    stable: Stability | None = None
    for name, method in (("bicubic", cv2.INTER_CUBIC), ("lanczos", cv2.INTER_LANCZOS4)):
        out = encoded(np.stack([cv2.resize(f, REFERENCE, interpolation=method) for f in clip.low]))
        stable = stable or (flows, flicker.flicker(out, flows=flows))
        rows.append({"method": name, "strength": None, **score(out, clip, stable, metrics)})
    assert stable is not None
    return rows, stable


def model_rows(
    model: str, onnx_dir: Path, runs: list[tuple[Clip, Stability, Degradation]], metrics: list[str]
) -> list[dict[str, Any]]:
    """One model (its default denoise level) at every strength on every clip."""
    name = served_name(model)
    export_onnx(catalog.SERVED[name], onnx_dir)
    upscaler = make_upscaler(name, None, onnx_dir, 600, backend="local")
    rows = []
    try:
        for clip, stable, degradation in runs:
            auto = replace(degradation, clean=clean_strength(model)).strength
            raw = [resize(upscaler.infer(frame[None])[0], *REFERENCE) for frame in clip.low]
            for strength in STRENGTHS:
                value = auto if strength == "auto" else float(strength)
                out = encoded(np.stack([blend(r, f, value) for r, f in zip(raw, clip.low, strict=True)]))
                rows.append(
                    {
                        "clip": clip,
                        "method": model,
                        "strength": strength,
                        "applied": value,
                        **score(out, clip, stable, metrics),
                    }
                )
    finally:
        upscaler.close()
    return rows


def _clip_fields(clip: Clip) -> dict[str, Any]:
    return {
        "source": clip.source,
        "kind": clip.kind,
        "role": clip.role,
        "level": clip.level,
        "bpp": round(clip.bits_per_pixel, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Sanity check, then every method on every clip; a table on stdout and the JSON file."""
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--models", default=",".join(m.id for m in CATALOGUE))
    parser.add_argument("--onnx-dir", type=Path, default=Path(tempfile.gettempdir()) / "vsr-bench-onnx")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    sanity = sanity_check(REFERENCE)
    print(f"metric sanity check at {REFERENCE[0]}x{REFERENCE[1]}: clean rated better than its degraded copy")
    for name, count in sanity.correct.items():
        print(f"  {name:<8} {count}/{sanity.total} {'kept' if count == sanity.total else 'DROPPED'}")
    metrics = sanity.kept()
    if not metrics:
        print("no metric passed the sanity check", file=sys.stderr)
        return 1
    record = "niqe" if "niqe" in metrics else metrics[0]
    print(f"metric of record: {record}\n")
    inputs = clips()
    rows: list[dict[str, Any]] = []
    runs = []
    for clip in inputs:
        base, stable = baselines(clip, metrics)
        degradation = estimate(list(clip.low), clip.bits_per_pixel)
        rows += [{"clip": clip, "degradation": round(degradation.score, 3), **row} for row in base]
        runs.append((clip, stable, degradation))
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    # The slowest model last: on a busy CPU the file written after each model still holds the others.
    models.sort(key=lambda m: m == "realesrgan-x4plus")
    table = [{**_clip_fields(row.pop("clip")), **row} for row in rows]
    for model in models:
        model_started = time.monotonic()
        table += [
            {**_clip_fields(row.pop("clip")), **row}
            for row in model_rows(model, args.onnx_dir, runs, metrics)
        ]
        print(f"{model}: {time.monotonic() - model_started:.0f} s", flush=True)
        _write(args.out, started, sanity, record, table, done=models[: models.index(model) + 1])
    _print(table, metrics, verdicts(table, record))
    print(f"wrote {args.out} in {time.monotonic() - started:.0f} s")
    return 0


def _write(
    out: Path, started: float, sanity: Any, record: str, table: list[dict[str, Any]], done: list[str]
) -> None:
    """The JSON file as it stands (rewritten after every model)."""
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "seconds": round(time.monotonic() - started, 1),
        "sanity": {"correct": sanity.correct, "total": sanity.total, "scores": sanity.scores},
        "metric_of_record": record,
        "encode": f"libx264 CRF {CRF} {PRESET}, yuv420p (outputs and baselines alike)",
        "models_done": done,
        "rows": table,
        "auto": verdicts(table, record),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


def _print(table: list[dict[str, Any]], metrics: list[str], summary: dict[str, Any]) -> None:
    columns = [*metrics, "psnr_db", "ssim", "flicker_rel"]
    print(
        f"{'kind':<9} {'src':<9} {'level':<6} {'method':<24} {'str':>5} "
        + " ".join(f"{c:>11}" for c in columns)
    )
    for row in table:
        strength = row["strength"]
        shown = (
            "-"
            if strength is None
            else (f"a{row['applied']:.2f}" if strength == "auto" else f"{strength:.2f}")
        )
        cells = " ".join(f"{row.get(c, '-')!s:>11}" for c in columns)
        print(f"{row['kind']:<9} {row['source']:<9} {row['level']:<6} {row['method']:<24} {shown:>5} {cells}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    sys.exit(main())
