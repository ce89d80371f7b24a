"""Pauses in a soundtrack, found with ffmpeg's silencedetect."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from adapter.errors import InvalidInputError

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
) -> list[tuple[float, float]]:
    """Quiet spans ``(start, end)`` of audio stream ``stream``; a file without audio is one long pause."""
    args = [
        "ffmpeg",
        "-v",
        "info",
        "-nostdin",
        "-hide_banner",
        "-protocol_whitelist",
        "file,pipe",
        "-i",
        f"file:{path.resolve()}",
        "-map",
        f"0:a:{stream}?",
        "-vn",
        "-sn",
        "-af",
        f"silencedetect=noise={noise_db}dB:d={min_s}",
        "-f",
        "null",
        "-",
    ]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidInputError("the soundtrack could not be analysed in time") from exc
    if done.returncode != 0:
        if "matches no streams" in done.stderr or "Output file #0 does not contain any stream" in done.stderr:
            return [(0.0, duration_s)]
        raise InvalidInputError("the soundtrack could not be read")
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
