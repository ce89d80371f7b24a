"""Side by side with Real-ESRGAN's own video script: same clip, same model, same machine, one run.

Theirs: ``inference_realesrgan_video.py`` from the Real-ESRGAN repository (pass its path with ``--script``),
run as its README says (``-n realesr-animevideov3 -s 4``, plus ``--fp32``: half precision is for CUDA)
with the ``realesrgan==0.3.0`` and ``basicsr==1.4.2`` wheels and ``ffmpeg-python``; its weights file is
written from the same ncnn weights we serve (the network loads them with every key matched). The PyPI
torchvision wheels need CUDA PyTorch, and basicsr imports torchvision at start-up although the video
script's inference (RealESRGANer: OpenCV and PyTorch) never calls it, so those imports are stubbed; and
its pool of one process per GPU has no process on a CPU-only host (``ValueError: Number of processes must
be at least 1``), so the launcher reports one GPU to send it down its own single-process path, where
RealESRGANer finds no CUDA and runs on the CPU (its per-frame ``torch.cuda.synchronize`` becomes a no-op).
Ours: ``python -m adapter upscale`` with ``--precision`` f32, then int8 (and bf16 where native).
Each side is timed as a whole process (start-up and model loading included), the sides interleaved,
best of ``--repeats``; the JSON records the CPU's flags.
Setup: ``pip install --no-deps basicsr==1.4.2 realesrgan==0.3.0 ffmpeg-python==0.2.0 addict==2.4.0 future``.
Run: ``.venv/bin/python -m bench.official --script PATH [--seconds 4] [--repeats 1] [--ungated]``;
writes bench/results/official.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.pipeline import MODELS_DIR, cpu_model
from bench.precision import precisions, ungated_copy
from contract.precision import cpu_flags, shown
from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x4"
#: Stands in for torchvision (see the module docstring), then runs the script as ``__main__``.
LAUNCH = """
import importlib.machinery, runpy, sys, types
class Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(f"{self.__name__}.{name}")
    def __call__(self, *args, **kwargs):
        raise RuntimeError("torchvision is not installed")
for name in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional",
             "torchvision.transforms.functional_tensor", "torchvision.models", "torchvision.utils"):
    module = Stub(name)
    module.__path__, module.__spec__ = [], importlib.machinery.ModuleSpec(name, None)
    sys.modules[name] = module
import torch
torch.cuda.device_count = lambda: 1  # its one-process path; RealESRGANer then picks the CPU itself
torch.cuda.synchronize = lambda *args, **kwargs: None  # called after each frame; a no-op on a CPU
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def write_weights(folder: Path) -> None:
    """``weights/realesr-animevideov3.pth`` as the script expects it, from the ncnn weights we serve."""
    import torch

    from model_convertation import catalog, weights

    network = weights.load_upscaler(catalog.SERVED[MODEL]).network
    assert isinstance(network, torch.nn.Module)
    (folder / "weights").mkdir(parents=True, exist_ok=True)
    torch.save({"params": network.state_dict()}, folder / "weights" / "realesr-animevideov3.pth")


def timed(argv: list[str], cwd: Path) -> float:
    """Wall seconds of one whole process."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    """Run both sides and print frames/s and the ratio."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--script", type=Path, required=True, help="Real-ESRGAN's inference_realesrgan_video.py")
    cli.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    cli.add_argument("--size", default="176x144")
    cli.add_argument("--seconds", type=float, default=4)
    cli.add_argument("--repeats", type=int, default=1)
    cli.add_argument("--ungated", action="store_true", help="run int8 even where its gate failed")
    args = cli.parse_args()
    flags = cpu_flags()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        models_dir = (
            ungated_copy(args.models_dir, [MODEL], folder / "models") if args.ungated else args.models_dir
        )
        clip = make_clip(folder / "clip.mp4", size=args.size, seconds=args.seconds, audio_tracks=0)
        frames = round(args.seconds * 25)
        write_weights(folder)
        sides: dict[str, list[str]] = {
            "real-esrgan video script (PyTorch f32)": [
                sys.executable,
                "-c",
                LAUNCH,
                str(args.script.resolve()),
                "-i",
                str(clip),
                "-o",
                str(folder / "theirs"),
                "-n",
                "realesr-animevideov3",
                "-s",
                "4",
                "--fp32",
            ],
        }
        for precision in precisions(flags):
            out = folder / f"ours-{precision}.mp4"
            sides[f"ours ({precision})"] = [
                *(sys.executable, "-m", "adapter", "upscale", str(clip), "-o", str(out), "--model", MODEL),
                *("--models-dir", str(models_dir), "--precision", precision, "--quiet"),
            ]
        best = {name: float("inf") for name in sides}
        for _ in range(args.repeats):
            for name, argv in sides.items():
                best[name] = min(best[name], timed(argv, ROOT if name.startswith("ours") else folder))
    theirs = next(iter(best.values()))
    rows: list[dict[str, Any]] = [
        {"side": name, "seconds": round(s, 2), "fps": round(frames / s, 2), "vs_script": round(theirs / s, 2)}
        for name, s in best.items()
    ]
    for row in rows:
        print(f"{row['side']:>42} | {row['seconds']:>8} s | {row['fps']:>6} fps | {row['vs_script']:>5}x")
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model": MODEL,
        "clip": f"{args.size}, {frames} frames (testsrc2, H.264)",
        "repeats": args.repeats,
        "ungated": args.ungated,
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "cpu_flags_deciding": shown(flags),
        "cpu_flags": sorted(flags),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "official.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"CPU flags {shown(flags)}; wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
