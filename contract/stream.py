"""What a video stream really holds: its packets counted by demuxing (no decoding), not its header.

A header can claim 1 s for a file that holds 10 hours; ``count_packets`` reads the first video
stream's packets with PyAV behind the same allow-lists as ``contract.probe`` and stops as soon as the
counted timeline passes ``max_duration_s``, so a forged file is refused after reading just past the
limit, never to its end. Call it only on a file ``contract.probe`` accepted (or refused for lacking a
duration).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from contract import media
from contract.catalogue import reason
from contract.media import AV_INPUT_OPTIONS
from contract.mediainfo import MediaInfo, ProbeError


@dataclass(frozen=True)
class StreamCount:
    """The demuxed first video stream: counted duration and packets, and whether it passed the limit.

    ``duration`` is last pts + that packet's duration − first pts, in seconds (exact, from the
    stream's time base); when ``exceeded`` is true counting stopped early and both figures are
    lower bounds.
    """

    duration: Fraction
    packets: int
    exceeded: bool
    time_base: Fraction
    #: Sorted pts of the keyframe packets seen (segment planning reads them from the same pass).
    keyframes: tuple[int, ...] = ()

    @property
    def duration_s(self) -> float:
        """The counted duration in seconds, as a float."""
        return float(self.duration)


def count_packets(path: Path, *, timeout_s: float, max_duration_s: float | None) -> StreamCount:
    """Demux the first video stream of ``path``, stopping once its timeline passes ``max_duration_s``.

    Raises ``ProbeError`` for an unreadable file and ``media.MediaTimeout`` past ``timeout_s``.
    """
    import av  # the backend and adapter have PyAV; contract's light users never call this

    deadline = time.monotonic() + timeout_s
    limit = None if max_duration_s is None else Fraction(max_duration_s)
    first: int | None = None
    end: int | None = None
    packets = 0
    keys: set[int] = set()
    try:
        with av.open(f"file:{Path(path).resolve()}", options=dict(AV_INPUT_OPTIONS)) as container:
            if not container.streams.video:
                raise ProbeError("not_video", reason("media.no_video_stream"))
            stream = container.streams.video[0]
            time_base = Fraction(stream.time_base or Fraction(1, 90000))
            for packet in container.demux(stream):
                if time.monotonic() > deadline:
                    raise media.MediaTimeout(timeout_s, program="pyav")
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None or packet.size == 0:  # the flush packet, or no timestamp at all
                    packets += packet.size > 0
                    continue
                packets += 1
                if packet.is_keyframe and packet.pts is not None:
                    keys.add(int(packet.pts))
                first = pts if first is None else min(first, pts)
                stop = pts + max(int(packet.duration or 0), 0)
                end = stop if end is None else max(end, stop)
                if limit is not None and (end - first) * time_base > limit:
                    counted = (end - first) * time_base
                    return StreamCount(counted, packets, True, time_base, tuple(sorted(keys)))
    except (av.FFmpegError, OSError) as exc:
        raise ProbeError("corrupt", reason("media.damaged")) from exc
    duration = Fraction(0) if first is None or end is None else (end - first) * time_base
    return StreamCount(duration, packets, False, time_base, tuple(sorted(keys)))


def refuse_exceeded(count: StreamCount, max_duration_s: float) -> None:
    """ProbeError ``media.too_long_in_stream`` when counting stopped at the limit."""
    if count.exceeded:
        seconds, limit_s = math.floor(count.duration), round(max_duration_s)
        raise ProbeError("too_large", reason("media.too_long_in_stream", seconds=seconds, limit_s=limit_s))


def counted_info(path: Path, info: MediaInfo, *, max_duration_s: float, timeout_s: float) -> MediaInfo:
    """``info`` with the duration and frame count that were counted, or ProbeError past the limit."""
    count = count_packets(path, timeout_s=timeout_s, max_duration_s=max_duration_s)
    refuse_exceeded(count, max_duration_s)
    if count.packets == 0 or count.duration <= 0:
        return info  # nothing with timestamps to count: the header's figures stay
    return replace(info, duration_s=count.duration_s, frames=count.packets)
