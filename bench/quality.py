"""Each model vs bicubic and Lanczos on a real degraded clip: PSNR/SSIM vs reference, no-reference sharpness.

Source: scikit-image's bundled photographs ``coffee`` (600x400) and ``astronaut`` (512x512), filmed by a
slow virtual camera pan (a moving 384x256 window, 12 frames each) — the reference. The low-quality clip is
that pan shrunk 4x (INTER_AREA, 96x64) and encoded with libx264 CRF 35, then decoded: blur, blocking and
ringing like a badly re-encoded old video. Every method upscales the same decoded frames to the
reference size (models at their native scale, then the pipeline's resize). No-reference score: variance
of the Laplacian of the luma (sharpness; more is sharper, not necessarily better — read with PSNR/SSIM).
Needs scikit-image (bench-only). Run ``.venv/bin/python -m bench.quality``; writes bench/results/quality.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from adapter.inference import make_upscaler
from adapter.pipeline import resize
from bench.pipeline import decoded_frames
from contract.messages import MODELS
from tests.fixtures.media import encode_frames

ROOT = Path(__file__).resolve().parents[1]
WINDOW = (384, 256)  # reference frame width, height
FRAMES = 12
FACTOR = 4
CRF = 35


def reference_frames() -> np.ndarray:
    """The reference clip: a slow pan over two real photographs."""
    frames = []
    for image in (data.coffee(), data.astronaut()):
        h, w = image.shape[:2]
        for i in range(FRAMES):
            x = round((w - WINDOW[0]) * i / (FRAMES - 1))
            y = round((h - WINDOW[1]) * i / (FRAMES - 1) / 2)
            frames.append(image[y : y + WINDOW[1], x : x + WINDOW[0]])
    return np.stack(frames)


def degrade(reference: np.ndarray, folder: Path) -> np.ndarray:
    """Shrink 4x and encode hard with libx264 through a real MP4; returns the decoded low-quality frames."""
    small = [
        cv2.resize(f, (WINDOW[0] // FACTOR, WINDOW[1] // FACTOR), interpolation=cv2.INTER_AREA)
        for f in reference
    ]
    return decoded_frames(encode_frames(folder / "low.mp4", np.stack(small), rate=12, crf=CRF))


def sharpness(frame: np.ndarray) -> float:
    """Variance of the Laplacian of the luma."""
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def score(outputs: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Mean PSNR (dB), SSIM and sharpness over the clip."""
    return {
        "psnr_db": round(
            float(
                np.mean(
                    [
                        peak_signal_noise_ratio(r, o, data_range=255)
                        for r, o in zip(reference, outputs, strict=True)
                    ]
                )
            ),
            3,
        ),
        "ssim": round(
            float(
                np.mean(
                    [
                        structural_similarity(r, o, channel_axis=2, data_range=255)
                        for r, o in zip(reference, outputs, strict=True)
                    ]
                )
            ),
            4,
        ),
        "sharpness": round(float(np.mean([sharpness(o) for o in outputs])), 1),
    }


def main() -> int:
    """Score every method and print a table."""
    reference = reference_frames()
    with tempfile.TemporaryDirectory() as folder:
        low = degrade(reference, Path(folder))
    size = WINDOW
    rows: list[dict[str, Any]] = [
        {
            "method": "reference",
            "psnr_db": None,
            "ssim": None,
            "sharpness": round(float(np.mean([sharpness(f) for f in reference])), 1),
        },
    ]
    for name, method in (("bicubic", cv2.INTER_CUBIC), ("lanczos", cv2.INTER_LANCZOS4)):
        started = time.perf_counter()
        out = np.stack([cv2.resize(f, size, interpolation=method) for f in low])
        rows.append(
            {"method": name, **score(out, reference), "seconds": round(time.perf_counter() - started, 2)}
        )
    for model in MODELS:
        upscaler = make_upscaler(model, None, ROOT / ".models" / "onnx")
        started = time.perf_counter()
        out = np.stack([resize(upscaler.infer(f[None])[0], *size) for f in low])
        rows.append(
            {"method": model, **score(out, reference), "seconds": round(time.perf_counter() - started, 2)}
        )
        upscaler.close()
    print(f"{'method':>36} | {'PSNR dB':>8} | {'SSIM':>6} | {'sharpness':>9}")
    for row in rows:
        print(
            f"{row['method']:>36} | {row['psnr_db'] or '-':>8} | {row['ssim'] or '-':>6} "
            f"| {row['sharpness']:>9}"
        )
    result = {
        "source": "scikit-image coffee + astronaut, 12-frame pans at 384x256 (reference)",
        "degradation": f"INTER_AREA 1/{FACTOR} to 96x64, libx264 CRF {CRF} medium, decoded",
        "upscale": "to the reference size; models at native scale then INTER_AREA/Lanczos as in the pipeline",
        "no_reference_score": "variance of Laplacian of luma (sharpness)",
        "rows": rows,
    }
    out_path = ROOT / "bench" / "results" / "quality.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
