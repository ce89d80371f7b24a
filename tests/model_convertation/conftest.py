"""Frames for the model conversion tests."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest


def ffmpeg_frame(width: int, height: int) -> np.ndarray:
    """One RGB frame of ffmpeg's testsrc2 pattern (a real decoded video frame, not noise)."""
    binary = shutil.which("ffmpeg")
    assert binary, "ffmpeg is required"
    argv = [
        binary,
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={width}x{height}:rate=25:duration=1",
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
    ]
    done = subprocess.run(argv, capture_output=True, timeout=30, check=True)
    return np.frombuffer(done.stdout, dtype=np.uint8).reshape(height, width, 3).copy()


@pytest.fixture(scope="session")
def real_frame() -> np.ndarray:
    """176x144 testsrc2 frame, RGB HWC uint8."""
    return ffmpeg_frame(176, 144)


@pytest.fixture(scope="session")
def tiny_batch() -> np.ndarray:
    """Two 64x48 frames, [2,48,64,3] uint8."""
    frame = ffmpeg_frame(64, 48)
    return np.stack([frame, frame[::-1].copy()])


#END
