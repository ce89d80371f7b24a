"""Shots of a video (PySceneDetect) and one representative key frame per shot (ffmpeg)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scenedetect import ContentDetector, detect

from adapter.errors import InvalidInputError

#: Key frames are analysed at most this big (the detector works at 512 px anyway).
KEY_FRAME_SIDE = 640


@dataclass(frozen=True)
class Scene:
    """A shot: ``start`` inclusive, ``end`` exclusive, in seconds from the start of the video."""

    start: float
    end: float

    @property
    def key_time(self) -> float:
        """The middle of the shot: past fades and cuts, the frame most typical of it."""
        return (self.start + self.end) / 2


def detect_scenes(
    path: Path, duration_s: float, *, threshold: float = 27.0, min_scene_s: float = 1.0, fps: float = 25.0
) -> list[Scene]:
    """Cut ``path`` into shots by content change; a video without cuts is one shot."""
    try:
        found = detect(
            str(path), ContentDetector(threshold=threshold, min_scene_len=max(1, round(min_scene_s * fps)))
        )
    except Exception as exc:  # PySceneDetect surfaces decoder failures as assorted exception types
        raise InvalidInputError("the video could not be read for scene detection") from exc
    scenes = [Scene(start.seconds, end.seconds) for start, end in found]
    if not scenes:
        return [Scene(0.0, duration_s)]
    # The last shot ends where the video does, whatever the decoder counted.
    last = scenes[-1]
    scenes[-1] = Scene(last.start, max(last.end, duration_s))
    return scenes


def key_frame_size(width: int, height: int) -> tuple[int, int]:
    """Display size scaled so the longer side is at most KEY_FRAME_SIDE, both even."""
    scale = min(1.0, KEY_FRAME_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def key_frame(path: Path, time_s: float, width: int, height: int, *, timeout_s: float = 60) -> np.ndarray:
    """The RGB frame shown at ``time_s`` (display orientation), resized to ``key_frame_size``."""
    out_w, out_h = key_frame_size(width, height)
    args = [
        "ffmpeg",
        "-v",
        "error",
        "-nostdin",
        "-protocol_whitelist",
        "file,pipe",
        "-ss",
        f"{max(0.0, time_s):.3f}",
        "-i",
        f"file:{path.resolve()}",
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        f"scale={out_w}:{out_h}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
    ]
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidInputError(f"a key frame at {time_s:.1f} s could not be decoded in time") from exc
    expected = out_w * out_h * 3
    if done.returncode != 0 or len(done.stdout) < expected:
        raise InvalidInputError(f"the frame at {time_s:.1f} s could not be decoded")
    return np.frombuffer(done.stdout[:expected], np.uint8).reshape(out_h, out_w, 3)
