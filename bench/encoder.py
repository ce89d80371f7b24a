"""What each x264 preset costs and gives on the model's real output: CPU ms/frame, bitrate, PSNR.

The frames: a slow pan over scikit-image's ``coffee`` and ``astronaut`` photographs, shrunk to 176x144 and
upscaled x4 by realesr-animevideov3-x4 (704x576, the pipeline bench's size). Each preset encodes them at
the production CRF through the pipeline's own ``adapter.video.encoder.Encoder`` (same colour conversion);
the file
is decoded again and compared with the uncompressed model output (RGB PSNR). Model CPU ms/frame on the
same frames is printed beside, since on a CPU host the encoder's milliseconds are taken from the model.
Run ``.venv/bin/python -m bench.encoder [--presets ultrafast,veryfast,medium]``; writes
bench/results/encoder.json. Needs scikit-image (bench-only).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from skimage import data
from skimage.metrics import peak_signal_noise_ratio

from adapter.inference.upscalers import make_upscaler
from adapter.video.colour import RANGE_MPEG, SPC_SMPTE170M, Colour
from adapter.video.encoder import Encoder
from bench.pipeline import decoded_frames
from contract.messages import JobOptions

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x4"
LOW = (176, 144)
FRAMES_PER_PHOTO = 25
RATE = 25


def cpu_seconds() -> float:
    """CPU seconds of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def low_frames() -> np.ndarray:
    """176x144 frames of a slow pan (2 px a frame at the source) over two real photographs."""
    frames = []
    for image in (data.coffee(), data.astronaut()):
        window = (2 * LOW[0], 2 * LOW[1])
        h, w = image.shape[:2]
        for i in range(FRAMES_PER_PHOTO):
            x = min(w - window[0], 2 * i)
            y = min(h - window[1], i)
            crop = image[y : y + window[1], x : x + window[0]]
            frames.append(cv2.resize(crop, LOW, interpolation=cv2.INTER_AREA))
    return np.stack(frames)


def main() -> int:
    """Encode the model's output with each preset; print a table and write JSON."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--presets", default="ultrafast,superfast,veryfast,faster,medium")
    args = cli.parse_args()
    crf = JobOptions().crf
    upscaler = make_upscaler(MODEL, None, ROOT / ".models" / "onnx")
    low = low_frames()
    upscaler.infer(low[: upscaler.max_batch])  # warm-up
    started = cpu_seconds()
    high = np.concatenate(
        [upscaler.infer(low[i : i + upscaler.max_batch]) for i in range(0, len(low), upscaler.max_batch)]
    )
    model_ms = 1000 * (cpu_seconds() - started) / len(low)
    upscaler.close()
    height, width = high.shape[1:3]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for preset in args.presets.split(","):
            path = Path(folder) / f"{preset}.mp4"
            started = cpu_seconds()
            encoder = Encoder(
                path,
                width=width,
                height=height,
                time_base=Fraction(1, RATE),
                fps=Fraction(RATE),
                colour=Colour(SPC_SMPTE170M, 6, 6, RANGE_MPEG),
                crf=crf,
                preset=preset,
            )
            for index, frame in enumerate(high):
                encoder.write(frame, index)
            encoder.close()
            encode_ms = 1000 * (cpu_seconds() - started) / len(high)
            decoded = decoded_frames(path)
            pairs = zip(high, decoded, strict=True)
            psnr = np.mean([peak_signal_noise_ratio(a, b, data_range=255) for a, b in pairs])
            rows.append(
                {
                    "preset": preset,
                    "encode_cpu_ms": round(encode_ms, 2),
                    "share_of_model": round(encode_ms / model_ms, 3),
                    "kbit_s": round(path.stat().st_size * 8 / 1000 / (len(high) / RATE)),
                    "psnr_db": round(float(psnr), 2),
                }
            )
    header = ("preset", "encode_cpu_ms", "share_of_model", "kbit_s", "psnr_db")
    print(f"model {MODEL}: {model_ms:.1f} CPU ms/frame; {len(high)} frames {width}x{height}, CRF {crf}")
    print(" | ".join(f"{h:>14}" for h in header))
    for row in rows:
        print(" | ".join(f"{row[h]!s:>14}" for h in header))
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model": MODEL,
        "model_cpu_ms": round(model_ms, 1),
        "frames": len(high),
        "size": f"{width}x{height}",
        "crf": crf,
        "nproc": os.cpu_count(),
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "encoder.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
