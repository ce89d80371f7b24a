"""The excerpt of a quick test run: the busiest few seconds (judged cheaply from packet sizes), cut out.

The video stream's packet sizes say where the picture changes most (big packets: motion, detail), without
decoding a frame; the window of ``seconds`` with the most bytes is the default excerpt. It is cut with a
stream copy (from the keyframe at or before its start), so it costs a read of the file, not an encode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from contract import media
from contract.media import UserInput

#: How long a quick test run is.
SECONDS = 5.0
TIMEOUT_S = 120.0


def busiest(packets: Sequence[tuple[float, int]], seconds: float = SECONDS) -> float:
    """Start (s) of the ``seconds`` window holding the most packet bytes; 0 for a shorter video."""
    ordered = sorted(packets)
    if not ordered or ordered[-1][0] - ordered[0][0] <= seconds:
        return 0.0
    last_start = ordered[-1][0] - seconds
    best, best_start, total, head = -1, 0.0, 0, 0
    for tail, (start, _size) in enumerate(ordered):
        if start > last_start:
            break
        while head < len(ordered) and ordered[head][0] < start + seconds:
            total += ordered[head][1]
            head += 1
        if total > best:
            best, best_start = total, start
        total -= ordered[tail][1]
    return max(0.0, best_start)


def packets(path: Path) -> list[tuple[float, int]]:
    """(pts seconds, bytes) of the first video stream's packets, read by ffprobe without decoding."""
    args = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,size"]
    done = media.run([*args, "-of", "csv=p=0", UserInput(path)], timeout_s=TIMEOUT_S)
    found = []
    for line in done.stdout.decode("ascii", "replace").splitlines():
        pts, _, size = line.strip().partition(",")
        try:
            found.append((float(pts), int(size)))
        except ValueError:
            continue  # a packet without a timestamp says nothing about where it is
    return found


def cut(source: Path, start: float, target: Path, seconds: float = SECONDS) -> None:
    """Copy ``seconds`` of ``source`` from ``start`` (video, sound; no re-encoding) into ``target``."""
    seek = UserInput(source, ("-ss", f"{start:.3f}"))
    args = media.ffmpeg(seek, "-t", f"{seconds:.3f}", "-map", "0:v:0", "-map", "0:a?", "-c", "copy")
    media.run([*args, f"file:{target.resolve()}"], timeout_s=TIMEOUT_S)
