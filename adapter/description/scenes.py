"""Shots of a video (PySceneDetect's content detector on PyAV-decoded frames) and one key frame per shot.

Both read the upload only behind the allow-lists of ``contract.media``: the shots through PyAV with
``AV_INPUT_OPTIONS``, the key frames through the media runner (ffmpeg, a ``UserInput``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scenedetect import ContentDetector
from scenedetect.common import FrameTimecode

from adapter import media
from adapter.errors import InvalidInputError, JobCancelled
from contract.catalogue import reason
from contract.media import AV_INPUT_OPTIONS, Arg, StopFn, UserInput, ffmpeg

#: Key frames are analysed at most this big (the detector works at 512 px anyway).
KEY_FRAME_SIDE = 640
#: Width frames are shrunk to before the content detector sees them (PySceneDetect's own default).
DETECT_WIDTH = 256


@dataclass(frozen=True)
class Scene:
    """A shot: ``start`` inclusive, ``end`` exclusive, in seconds from the start of the video."""

    start: float
    end: float

    @property
    def key_time(self) -> float:
        """The middle of the shot: past fades and cuts, the frame most typical of it."""
        return (self.start + self.end) / 2


def _cuts(path: Path, detector: ContentDetector, fps: Fraction, should_stop: StopFn) -> list[float]:
    """Seconds at which ``detector`` finds a cut, over every decoded frame (small BGR copies)."""
    cuts: list[float] = []
    position = FrameTimecode(0, fps=fps)
    with av.open(f"file:{Path(path).resolve()}", options=dict(AV_INPUT_OPTIONS)) as container:
        stream = container.streams.video[0]
        for number, frame in enumerate(container.decode(stream)):
            if should_stop():
                raise JobCancelled("cancelled")
            scale = max(1.0, frame.width / DETECT_WIDTH)
            width = max(2, round(frame.width / scale))
            height = max(2, round(frame.height / scale))
            image = frame.to_ndarray(format="bgr24", width=width, height=height)
            position = FrameTimecode(number, fps=fps)
            cuts += [cut.seconds for cut in detector.process_frame(position, image)]
    cuts += [cut.seconds for cut in detector.post_process(position)]
    return cuts


def detect_scenes(
    path: Path,
    duration_s: float,
    *,
    threshold: float = 27.0,
    min_scene_s: float = 1.0,
    fps: float | Fraction = 25.0,
    should_stop: StopFn | None = None,
) -> list[Scene]:
    """Cut ``path`` into shots by content change; a video without cuts is one shot."""
    rate = Fraction(fps).limit_denominator(1_000_000)
    detector = ContentDetector(threshold=threshold, min_scene_len=max(1, round(min_scene_s * float(rate))))
    try:
        cuts = _cuts(path, detector, rate, should_stop or (lambda: False))
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise InvalidInputError(reason("description.scenes_unreadable")) from exc
    bounds = [0.0, *sorted(c for c in cuts if 0 < c < duration_s), duration_s]
    # The last shot ends where the video does, whatever the decoder counted.
    return [Scene(start, end) for start, end in itertools.pairwise(bounds)]


def key_frame_size(width: int, height: int, side: int = KEY_FRAME_SIDE) -> tuple[int, int]:
    """Display size scaled so the longer side is at most ``side``, both even."""
    scale = min(1.0, side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def key_frame(
    path: Path,
    time_s: float,
    width: int,
    height: int,
    *,
    timeout_s: float = 60,
    should_stop: StopFn | None = None,
    side: int = KEY_FRAME_SIDE,
) -> np.ndarray:
    """The RGB frame shown at ``time_s`` (display orientation), resized to ``key_frame_size``."""
    out_w, out_h = key_frame_size(width, height, side)
    seek = ("-ss", f"{max(0.0, time_s):.3f}")
    args: list[Arg] = ffmpeg(UserInput(path, options=seek), "-map", "0:v:0")
    args += ["-frames:v", "1", "-vf", f"scale={out_w}:{out_h}", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    args.append("pipe:1")
    failed = reason("description.frame_unreadable", time_s=round(time_s, 1))
    done = media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=failed)
    expected = out_w * out_h * 3
    if len(done.stdout) < expected:
        raise InvalidInputError(failed)
    return np.frombuffer(done.stdout[:expected], np.uint8).reshape(out_h, out_w, 3)


def frames_at(
    path: Path,
    times: list[float],
    width: int,
    height: int,
    *,
    side: int = KEY_FRAME_SIDE,
    timeout_s: float = 120,
    should_stop: StopFn | None = None,
) -> list[np.ndarray]:
    """The RGB frames shown at ``times`` (ascending, one shot), decoded by one ffmpeg run.

    ffmpeg seeks once to the first time and its ``select`` keeps, for each time, the first frame at
    or after it; a time it did not reach falls back to :func:`key_frame`, then to the last frame.
    """
    if not times:
        return []
    out_w, out_h = key_frame_size(width, height, side)
    start = max(0.0, times[0] - 0.001)
    # The first frame has no previous one: prev_t is NaN there, so isnan() stands in for lt().
    picks = "+".join(f"gte(t,{t - start:.3f})*(lt(prev_t,{t - start:.3f})+isnan(prev_t))" for t in times)
    span = f"{times[-1] - start + 0.5:.3f}"
    args: list[Arg] = ffmpeg(UserInput(path, options=("-ss", f"{start:.3f}")), "-map", "0:v:0", "-t", span)
    args += ["-vf", f"select='{picks}',scale={out_w}:{out_h}", "-fps_mode", "passthrough"]
    args += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    failed = reason("description.frame_unreadable", time_s=round(times[0], 1))
    done = media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=failed)
    size = out_w * out_h * 3
    frames = [
        np.frombuffer(done.stdout[i * size : (i + 1) * size], np.uint8).reshape(out_h, out_w, 3)
        for i in range(min(len(times), len(done.stdout) // size))
    ]
    for time_s in times[len(frames) :]:
        try:
            frames.append(key_frame(path, time_s, width, height, side=side, should_stop=should_stop))
        except InvalidInputError:
            if not frames:
                raise
            frames.append(frames[-1])  # past the last frame: the last one is what is shown
    return frames
