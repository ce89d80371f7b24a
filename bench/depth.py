"""10-bit and HDR precision: distinct levels of a smooth ramp and ΔE2000, deep path vs forced 8 bits.

Source: a smooth sky made here, a horizontal 10-bit ramp over 120 code values (30 in 8 bits), 256x144,
ten frames, encoded as HEVC Main10 PQ (with mastering metadata), HEVC Main10 HLG, and H.264 High 10 SDR.
Each goes through the real pipeline (the default model in-process, ``--scale 2``) twice: as it runs (16-bit
pictures around the model, HEVC Main10 out; adapter/video/depth.py) and forced to 8 bits (8-bit pictures,
8-bit
H.264, as before). Scores: distinct 10-bit luma values along the middle row of the first frame, and the mean
CIEDE2000 of the result area-downscaled back vs the source (scikit-image; RGB code values read as sRGB,
a proxy for PQ/HLG). Run ``.venv/bin/python -m bench.depth``; writes bench/results/depth.json.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import av
import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from adapter.inference.upscalers import make_upscaler
from adapter.video import pipeline
from contract.messages import DEFAULT_MODEL, JobOptions

ROOT = Path(__file__).resolve().parents[1]
SIZE = (256, 144)
MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
#: (name, transfer, primaries, matrix, encoder of the source)
CLIPS = (
    ("pq", "smpte2084", "bt2020", "bt2020nc", "libx265"),
    ("hlg", "arib-std-b67", "bt2020", "bt2020nc", "libx265"),
    ("sdr10", "bt709", "bt709", "bt709", "libx264"),
)


def ramp_clip(path: Path, *, transfer: str, primaries: str, matrix: str, codec: str = "libx265") -> Path:
    """A smooth sky: a horizontal 10-bit ramp over 120 code values (30 of 8 bits), ten frames."""
    width, height = SIZE
    row = np.linspace(400 * 64, 520 * 64, width).astype(np.uint16)
    picture = np.repeat(np.repeat(row[None, :, None], height, 0), 3, 2)
    params = ["-x265-params", f"log-level=error:hdr10=1:master-display={MASTER}:max-cll=1000,400"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb48le",
         "-s", f"{width}x{height}", "-r", "25", "-i", "-", "-c:v", codec, "-pix_fmt", "yuv420p10le",
         *(params if codec == "libx265" else []),
         "-color_primaries", primaries, "-color_trc", transfer, "-colorspace", matrix, str(path)],
        input=np.stack([picture] * 10).tobytes(), check=True, timeout=120,
    )  # fmt: skip
    return path


def _first_frame(path: Path, pix_fmt: str) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.reformat(format=pix_fmt).to_ndarray())


def luma_levels(path: Path) -> int:
    """Distinct 10-bit luma values along the middle row of the first frame."""
    luma = _first_frame(path, "gray16le")
    return len(np.unique(luma[luma.shape[0] // 2] >> 6))


def mean_delta_e(source: Path, result: Path) -> float:
    """Mean CIEDE2000 of the result's first frame, area-downscaled to the source size, vs the source's."""
    before = _first_frame(source, "rgb48le")
    after = cv2.resize(_first_frame(result, "rgb48le"), SIZE, interpolation=cv2.INTER_AREA)
    lab = [rgb2lab(np.asarray(x, dtype=np.float64) / 65535) for x in (before, after)]
    return float(np.mean(deltaE_ciede2000(lab[0], lab[1])))


def measure(
    folder: Path, upscaler: pipeline.Upscaler, clip: tuple[str, str, str, str, str]
) -> dict[str, Any]:
    """One clip through the deep path and the forced 8-bit path."""
    name, transfer, primaries, matrix, codec = clip
    source = ramp_clip(
        folder / f"{name}.mp4", transfer=transfer, primaries=primaries, matrix=matrix, codec=codec
    )
    deep, narrow = folder / f"{name}-deep.mp4", folder / f"{name}-8bit.mp4"
    started = time.perf_counter()
    pipeline.run(source, deep, JobOptions(scale=2), upscaler)
    deep_s = time.perf_counter() - started
    with mock.patch.object(pipeline, "high_bit_depth", lambda _pix_fmt: False):
        started = time.perf_counter()
        pipeline.run(source, narrow, JobOptions(scale=2), upscaler)
        narrow_s = time.perf_counter() - started
    return {
        "clip": name,
        "levels_source": luma_levels(source),
        "levels_deep": luma_levels(deep),
        "levels_8bit": luma_levels(narrow),
        "delta_e_deep": round(mean_delta_e(source, deep), 3),
        "delta_e_8bit": round(mean_delta_e(source, narrow), 3),
        "seconds_deep": round(deep_s, 2),
        "seconds_8bit": round(narrow_s, 2),
    }


def main() -> int:
    """Measure every clip, print a table, write JSON."""
    upscaler = make_upscaler(DEFAULT_MODEL, None, ROOT / ".models" / "onnx")
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows = [measure(Path(folder), upscaler, clip) for clip in CLIPS]
    finally:
        upscaler.close()
    print(f"{'clip':>6} | {'levels in':>9} | {'deep':>5} | {'8-bit':>5} | {'ΔE deep':>7} | {'ΔE 8-bit':>8}")
    for r in rows:
        print(
            f"{r['clip']:>6} | {r['levels_source']:>9} | {r['levels_deep']:>5} | {r['levels_8bit']:>5} "
            f"| {r['delta_e_deep']:>7} | {r['delta_e_8bit']:>8}"
        )
    result = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
              "model": DEFAULT_MODEL, "rows": rows}  # fmt: skip
    out = ROOT / "bench" / "results" / "depth.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
