"""Segment planning: cut a long video into keyframe-aligned frame ranges, one task each (docs/segments.md).

This module is the one place that decides the segments of a job: where the cuts fall, how many frames
each segment is planned to hold (the adapter's progress runs against that count), the ``tasks`` rows
of the segments and of the assembly, and the ``Segment`` a segment task's message carries.

Cuts are pts in the input video stream's time base, computed with Fractions from the keyframe list,
so no float ever decides which frame belongs where: segment i holds the frames whose pts lie in
``[cut_i, cut_{i+1})``, the first segment starts at the stream's beginning and the last one runs to
its end. Every frame is therefore in exactly one segment, wherever the cuts fall.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from backend.jobs.db import Task
from contract import limits
from contract.container import ANIMATED
from contract.interlace import pictures_per_frame
from contract.media import MediaError
from contract.mediainfo import MediaInfo, ProbeError
from contract.messages import ASSEMBLE, SEGMENT, JobOptions, Segment
from contract.probe import is_animation
from contract.stream import counted_info

log = logging.getLogger(__name__)

#: A last segment shorter than this share of the segment length is merged into the one before it.
MIN_LAST_SHARE = Fraction(1, 2)


def _ceil(value: Fraction) -> int:
    return math.ceil(value)


def cuts(
    keyframes: Sequence[int], *, time_base: Fraction, duration_s: Fraction, seconds: Fraction
) -> list[int]:
    """Inner cut points (pts): the keyframe nearest to each multiple of ``seconds`` when one lies within
    half a segment of it, else the multiple itself (the adapter then decodes from the keyframe before)."""
    if seconds <= 0 or not keyframes or duration_s <= seconds * (1 + MIN_LAST_SHARE):
        return []
    origin = keyframes[0]
    length = _ceil(seconds / time_base)  # one segment in pts
    end = origin + _ceil(duration_s / time_base)
    tolerance = length // 2
    found: list[int] = []
    target = origin + length
    while target < end:
        near = min(keyframes, key=lambda k: (abs(k - target), k))
        cut = near if abs(near - target) <= tolerance else target
        if cut > (found[-1] if found else origin) and end - cut >= length * MIN_LAST_SHARE:
            found.append(cut)
        target += length
    return found


def plan(
    keyframes: Sequence[int],
    *,
    time_base: Fraction,
    fps: Fraction,
    duration_s: float,
    frames: int,
    seconds: float,
) -> list[Segment]:
    """The segments of a video; one segment (the whole video) when it is short or has no timestamps."""
    duration = Fraction(duration_s)
    points = cuts(keyframes, time_base=time_base, duration_s=duration, seconds=Fraction(seconds))
    count = len(points) + 1
    if count == 1:
        return [Segment(index=0, count=1, frames=max(1, frames))]
    origin = keyframes[0]
    bounds: list[int | None] = [None, *points, None]
    estimates = []
    for start, stop in zip([origin, *points], points, strict=False):
        estimates.append(max(1, round((stop - start) * time_base * fps)))
    estimates.append(max(1, frames - sum(estimates)))
    return [
        Segment(index=i, count=count, start_pts=bounds[i], end_pts=bounds[i + 1], frames=estimates[i])
        for i in range(count)
    ]


def counted(path: Path, info: MediaInfo, *, max_duration_s: float) -> MediaInfo:
    """``info`` with what the upload's video stream really holds (ProbeError past the duration limit).

    Counting that takes too long keeps the header's figures: the adapter still stops at the limit.
    """
    if is_animation(info):  # Pillow counted every picture already
        return info
    try:
        return counted_info(path, info, max_duration_s=max_duration_s, timeout_s=limits.COUNT_TIMEOUT_S)
    except MediaError as exc:
        log.warning("packets not counted, the header's duration stands: %s", exc)
        return info


def for_upload(
    path: Path,
    info: MediaInfo,
    options: JobOptions,
    *,
    seconds: float,
    read_keyframes: Callable[[Path], list[int]],
) -> list[Task]:
    """The segment tasks of a new job; empty when it runs as one task.

    Only upscaling without an audio description is segmented (the description needs the whole
    video), only when ``seconds`` > 0 and the video is long enough for two segments.
    """
    if seconds <= 0 or not options.upscale or options.describe is not None:
        return []
    if is_animation(info) or options.container in ANIMATED:  # one picture stream, written in one piece
        return []
    if info.duration_s <= seconds * (1 + float(MIN_LAST_SHARE)):
        return []
    try:
        keyframes = read_keyframes(path)
    except (ProbeError, MediaError) as exc:  # unreadable or too slow: not worth failing the upload
        log.warning("keyframes unreadable, the job runs as one task: %s", exc)
        return []
    planned = plan(
        keyframes, time_base=info.time_base, fps=info.fps, duration_s=info.duration_s,
        frames=info.frames, seconds=seconds,
    )
    if len(planned) < 2:
        return []
    per_frame = pictures_per_frame(options.deinterlace)  # decided at upload: progress counts pictures out
    return [
        Task(
            index=s.index, kind=SEGMENT, count=s.count, start_pts=s.start_pts, end_pts=s.end_pts,
            status="queued", published=False, frames_total=s.frames * per_frame, frames_done=0, fps=0.0,
        )
        for s in planned
    ]


def assembly_task(count: int) -> Task:
    """The task that joins ``count`` stored segments; unpublished, so the outbox sends it."""
    return Task(
        index=count, kind=ASSEMBLE, count=count, status="queued", published=False,
        frames_total=0, frames_done=0, fps=0.0,
    )


def of_task(task: Task) -> Segment:
    """The ``Segment`` of a segment task's message: its bounds and its planned frame count."""
    # Progress events keep frames_total current; a message always plans at least one frame.
    return Segment(
        index=task.index, count=task.count, start_pts=task.start_pts, end_pts=task.end_pts,
        frames=max(1, task.frames_total),
    )
