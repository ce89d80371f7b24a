"""Pauses in a soundtrack, found with ffmpeg's silencedetect (through the media runner)."""

from __future__ import annotations

import re
from pathlib import Path

from adapter.media import job_error
from contract import media
from contract.catalogue import reason
from contract.media import Arg, StopFn, UserInput, ffmpeg

_START = re.compile(r"silence_start: (-?[\d.]+)")
_END = re.compile(r"silence_end: (-?[\d.]+)")


def silences(
    path: Path,
    duration_s: float,
    *,
    stream: int = 0,
    noise_db: float = -35.0,
    min_s: float = 0.4,
    timeout_s: float = 600,
    should_stop: StopFn | None = None,
) -> list[tuple[float, float]]:
    """Quiet spans ``(start, end)`` of audio stream ``stream``; a file without audio is one long pause."""
    args: list[Arg] = ffmpeg(UserInput(path), level="info")
    args += ["-map", f"0:a:{stream}?", "-vn", "-sn", "-af", f"silencedetect=noise={noise_db}dB:d={min_s}"]
    args += ["-f", "null", "-"]
    try:
        done = media.run(args, timeout_s=timeout_s, should_stop=should_stop)
    except media.MediaFailed as exc:
        if "matches no streams" in exc.tail or "does not contain any stream" in exc.tail:
            return [(0.0, duration_s)]
        raise job_error(exc, reason("description.soundtrack_unreadable")) from exc
    except media.MediaError as exc:
        raise job_error(exc, reason("description.soundtrack_unreadable")) from exc
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for line in done.stderr.splitlines():
        if (found := _START.search(line)) is not None:
            start = max(0.0, float(found.group(1)))
        elif (found := _END.search(line)) is not None and start is not None:
            spans.append((start, float(found.group(1))))
            start = None
    if start is not None:  # silent to the end: ffmpeg prints no silence_end
        spans.append((start, duration_s))
    return spans
