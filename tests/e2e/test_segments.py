"""Issue 6 acceptance on the real stack (RabbitMQ, tritonserver, 2 adapters, backend): segmented jobs.

A 60 s clip becomes 6 segments of 10 s processed by both adapters and joined by stream copy; the
result has the input's frames and timestamps, its audio in sync, and no visible seam compared with
a single-segment run of the same pipeline (``python -m adapter upscale`` against the same Triton).
An adapter killed mid-segment: tests/chaos/test_crashes.py.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest

from devops.local import Stack
from tests.fixtures.e2e import LONG_CLIP_SIZE as SIZE
from tests.fixtures.e2e import SEGMENT_CLIP_FPS as FPS
from tests.fixtures.e2e import long_clip, upload, wait_job
from tests.fixtures.media import packet_pts, time_base

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def times(path: Path, stream: str) -> list[Fraction]:
    """Presentation times (exact, as Fractions of a second) of every packet of one stream, sorted."""
    base = time_base(path, stream)
    return [pts * base for pts in packet_pts(path, stream)]


def frames(path: Path) -> list[np.ndarray]:
    """Decoded frames as RGB arrays, shrunk to the input size (area averaging) for comparison."""
    with av.open(str(path)) as container:
        return [
            cv2.resize(f.to_ndarray(format="rgb24"), SIZE, interpolation=cv2.INTER_AREA)
            for f in container.decode(video=0)
        ]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def download(api: httpx.Client, job: dict[str, object], target: Path) -> Path:
    response = api.get(str(job["result_url"]))
    assert response.status_code == 200
    target.write_bytes(response.content)
    return target


def test_sixty_seconds_in_six_segments_keep_frames_timing_audio_and_quality(
    stack: Stack, api: httpx.Client, e2e_clips: Path, tmp_path: Path
) -> None:
    source = long_clip(e2e_clips, 60, FPS)  # 5 fps: the segments' logic, with a fifth of 25 fps's frames
    job = upload(api, source, scale="2")
    assert job["segments"] == 6, "60 s at SEGMENT_SECONDS=10 is planned as 6 segments"
    done = wait_job(api, job["id"], timeout=300)
    assert done["status"] == "done", done["error"]
    assert done["segments_done"] == 6 and done["output"]["frames"] == 60 * FPS
    result = download(api, done, tmp_path / "segmented.mp4")

    video_in, video_out = times(source, "v:0"), times(result, "v:0")
    assert len(video_out) == len(video_in) == 60 * FPS
    assert video_out == video_in, "every frame keeps its own timestamp"
    audio_in, audio_out = times(source, "a:0"), times(result, "a:0")
    assert audio_out == audio_in, "the audio is copied with its timestamps"
    frame = Fraction(1, 25)  # a frame at 25 fps: stricter than one of this clip's frames
    for j in (0, len(video_in) // 2, len(video_in) - 1):  # start, middle, end
        k = min(range(len(audio_in)), key=lambda i: abs(audio_in[i] - video_in[j]))
        drift = (audio_out[k] - video_out[j]) - (audio_in[k] - video_in[j])
        assert abs(drift) < frame, f"audio out of sync by {float(drift):.3f} s at frame {j}"

    reference = tmp_path / "single.mp4"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "adapter",
            "upscale",
            str(source),
            "-o",
            str(reference),
            "--scale",
            "2",
            "--triton-url",
            stack.triton_url,
            "--quiet",
        ],
        check=True,
        timeout=300,
    )
    original, segmented, single = frames(source), frames(result), frames(reference)
    assert len(original) == len(segmented) == len(single) == 60 * FPS
    gain = np.array([psnr(s, o) - psnr(r, o) for s, r, o in zip(segmented, single, original, strict=True)])
    typical = float(np.median(gain))
    # The last frame before and the first after each cut.
    boundaries = [i * 10 * FPS + d for i in range(1, 6) for d in (-1, 0)]
    worst = min(gain[boundaries] - typical)
    print(f"\nsegmented minus single-run PSNR vs input: median {typical:+.2f} dB, worst seam {worst:+.2f} dB")
    assert worst > -1.0, f"a seam: PSNR at a boundary {worst:.2f} dB below elsewhere (vs a single run)"
