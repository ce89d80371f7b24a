"""Issue 6 acceptance on the real stack (RabbitMQ, tritonserver, 2 adapters, backend): segmented jobs.

A 60 s clip becomes 6 segments of 10 s processed by both adapters and joined by stream copy; the
result has the input's frames and timestamps, its audio in sync, and no visible seam compared with
a single-segment run of the same pipeline (``python -m adapter upscale`` against the same Triton).
"""

from __future__ import annotations

import re
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
from tests.e2e.conftest import hit_while_running, upload, wait_job
from tests.fixtures.media import make_gop_clip, packet_pts, time_base

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

FPS = 25
SIZE = (96, 64)


def long_clip(folder: Path, seconds: int) -> Path:
    """testsrc2 at 96x64, 25 fps, a keyframe every 2 s (B-frames on), sine audio; made once."""
    path = folder / f"long{seconds}.mp4"
    if not path.exists():
        make_gop_clip(path, seconds=seconds, size=f"{SIZE[0]}x{SIZE[1]}", rate=FPS)
    return path


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
    source = long_clip(e2e_clips, 60)
    job = upload(api, source, scale="2")
    assert job["segments"] == 6, "60 s at SEGMENT_SECONDS=10 is planned as 6 segments"
    done = wait_job(api, job["id"], timeout=300)
    assert done["status"] == "done", done["error"]
    assert done["segments_done"] == 6 and done["output"]["frames"] == 1500
    result = download(api, done, tmp_path / "segmented.mp4")

    video_in, video_out = times(source, "v:0"), times(result, "v:0")
    assert len(video_out) == len(video_in) == 1500
    assert video_out == video_in, "every frame keeps its own timestamp"
    audio_in, audio_out = times(source, "a:0"), times(result, "a:0")
    assert audio_out == audio_in, "the audio is copied with its timestamps"
    frame = Fraction(1, FPS)
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
    assert len(original) == len(segmented) == len(single) == 1500
    gain = np.array([psnr(s, o) - psnr(r, o) for s, r, o in zip(segmented, single, original, strict=True)])
    typical = float(np.median(gain))
    boundaries = [i * 250 + d for i in range(1, 6) for d in (-1, 0)]  # last frame before, first after a cut
    worst = min(gain[boundaries] - typical)
    print(f"\nsegmented minus single-run PSNR vs input: median {typical:+.2f} dB, worst seam {worst:+.2f} dB")
    assert worst > -1.0, f"a seam: PSNR at a boundary {worst:.2f} dB below elsewhere (vs a single run)"


def _starts(stack: Stack, job_id: str, offsets: list[int]) -> dict[str, list[int]]:
    """Which adapter (by index) logged the start of each part of the job since ``offsets``."""
    found: dict[str, list[int]] = {}
    pattern = re.compile(rf"job {job_id} (segment \d+/\d+|assembly): start")
    for index, adapter in enumerate(stack.adapters):
        text = adapter.log_path.read_bytes()[offsets[index] :].decode(errors="replace")
        for match in pattern.finditer(text):
            found.setdefault(match.group(1), []).append(index)
    return found


def _done_lines(stack: Stack, job_id: str, offsets: list[int]) -> list[str]:
    pattern = re.compile(rf"job {job_id} (segment \d+/\d+|assembly): done")
    lines = []
    for index, adapter in enumerate(stack.adapters):
        text = adapter.log_path.read_bytes()[offsets[index] :].decode(errors="replace")
        lines += [m.group(1) for m in pattern.finditer(text)]
    return lines


def test_adapter_killed_mid_segment_redoes_only_that_segment(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    offsets = [adapter.log_path.stat().st_size for adapter in stack.adapters]
    job = upload(api, long_clip(e2e_clips, 30))
    assert job["segments"] == 3
    victim = 0

    def unfinished_by_victim() -> list[str]:
        done = _done_lines(stack, job["id"], offsets)
        return [part for part, who in _starts(stack, job["id"], offsets).items()
                if who == [victim] and part not in done]

    # The victim is killed while it works on a segment it has not finished (and the job is mid-way).
    killed: list[str] = []

    def kill() -> None:
        killed.extend(unfinished_by_victim())
        stack.kill_adapter(victim)

    try:
        hit_while_running(api, job["id"], kill, ready=lambda _: bool(unfinished_by_victim()))
        assert len(killed) == 1, killed
        done = wait_job(api, job["id"], timeout=240)
        assert done["status"] == "done", done["error"]
        assert done["output"]["frames"] == 750
        starts = _starts(stack, job["id"], offsets)
        assert starts[killed[0]] == [victim, 1 - victim], f"only the killed segment is redone: {starts}"
        others = {part: who for part, who in starts.items() if part != killed[0]}
        assert all(len(who) == 1 for who in others.values()), f"every other part ran once: {starts}"
        assert sorted(_done_lines(stack, job["id"], offsets)) == sorted(starts), "each part finished once"
        final = api.get(f"/api/jobs/{job['id']}").json()
        assert final["status"] == "done" and final["segments_done"] == 3
        assert stack.backend is not None
        finished = [
            line
            for line in stack.backend.log_path.read_text(errors="replace").splitlines()
            if job["id"] in line and "-> done" in line
        ]
        assert len(finished) == 1, f"the job finished exactly once: {finished}"
    finally:
        stack.restart_adapter(victim)
