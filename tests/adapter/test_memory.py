"""Memory does not grow with video length: peak RSS for 60 s within 20 % of 6 s (real model, subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.media import ClipFactory

ROOT = Path(__file__).resolve().parents[2]
MEASURE = """
import resource, sys
from pathlib import Path
from adapter.inference.upscalers import make_upscaler
from adapter.video.pipeline import run
from contract.messages import JobOptions
upscaler = make_upscaler("realesr-animevideov3-x4", None, Path(sys.argv[3]))
result = run(Path(sys.argv[1]), Path(sys.argv[2]), JobOptions(), upscaler)
print(result.frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(source: Path, output: Path, models_dir: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(source), str(output), str(models_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    frames, peak = done.stdout.split()
    return int(frames), int(peak)


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_length(clip: ClipFactory, models_dir: Path, tmp_path: Path) -> None:
    short_frames, short = _peak_kib(clip("six.mp4", size="64x48", seconds=6), tmp_path / "a.mp4", models_dir)
    long_frames, long = _peak_kib(clip("sixty.mp4", size="64x48", seconds=60), tmp_path / "b.mp4", models_dir)
    assert (short_frames, long_frames) == (150, 1500)
    assert long <= short * 1.2, f"peak RSS {short} KiB for 6 s but {long} KiB for 60 s"
