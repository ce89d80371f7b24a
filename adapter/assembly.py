"""Assembly of a segmented job: join the video-only segment files by stream copy, then mux the source's rest.

Every segment was encoded with the same settings, in the source's time base and with each frame's
own pts, and starts with a keyframe, so joining is a plain packet copy: no frame is re-encoded, no
timestamp is moved. The joined video then goes through the same ``video.mux`` as a whole-video run
(source audio, text subtitles, metadata, rotation, faststart), so audio stays in sync by pts.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from adapter import video
from adapter.errors import InvalidInputError, JobCancelled, StorageError, TransientJobError
from adapter.pipeline import Limits, probe_input

#: Segment files are our own MP4s: nothing but the file protocol and the MP4 demuxer may open them.
_SEGMENT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": "mov,mp4"}


@dataclass(frozen=True)
class Assembled:
    """What the assembly wrote: frames, display size and wall seconds (same fields as pipeline.Result)."""

    frames: int
    width: int
    height: int
    seconds: float
    inferred: int = 0


def _open(path: Path) -> Any:
    try:
        return av.open(f"file:{path.resolve()}", options=dict(_SEGMENT_OPTIONS))
    except FileNotFoundError as exc:
        raise TransientJobError(f"segment file {path.name} is missing") from exc
    except (av.FFmpegError, OSError) as exc:
        raise TransientJobError(f"segment file {path.name} cannot be read") from exc


def concat(segments: Sequence[Path], output: Path, should_stop: Callable[[], bool]) -> tuple[int, int, int]:
    """Copy the video packets of ``segments`` in order into a video-only MP4; returns (frames, width, height).

    Refuses segments whose codec parameters differ from the first one's (they would not decode as one
    stream) and packets whose decode time does not move forward.
    """
    first = _open(segments[0])
    try:
        template = first.streams.video[0]
        extradata, width, height = template.codec_context.extradata, template.width, template.height
        time_base = template.time_base
        try:
            out = av.open(str(output), mode="w", format="mp4")
        except OSError as exc:
            raise StorageError("the joined video could not be created") from exc
        try:
            stream = out.add_stream_from_template(template)
            stream.time_base = time_base
            frames, last_dts = 0, None
            for path in segments:
                source = first if path == segments[0] else _open(path)
                try:
                    src = source.streams.video[0]
                    if (src.codec_context.extradata, src.width, src.height) != (extradata, width, height):
                        raise TransientJobError(f"segment {path.name} was encoded differently; it is redone")
                    if src.time_base != time_base:
                        raise TransientJobError(f"segment {path.name} has another time base")
                    for packet in source.demux(src):
                        if packet.dts is None:
                            continue  # the demuxer's flush packet
                        if should_stop():
                            raise JobCancelled("cancelled")
                        if last_dts is not None and packet.dts <= last_dts:
                            raise InvalidInputError(f"segment {path.name} overlaps the one before it")
                        last_dts = packet.dts
                        packet.stream = stream
                        out.mux(packet)
                        frames += 1
                finally:
                    if source is not first:
                        source.close()
        finally:
            out.close()
    finally:
        first.close()
    return frames, width, height


def assemble(
    input_path: Path,
    segments: Sequence[Path],
    output_path: Path,
    *,
    should_stop: Callable[[], bool] | None = None,
    limits: Limits | None = None,
) -> Assembled:
    """Join ``segments`` and mux them with the input's other streams into ``output_path`` (atomically)."""
    started = time.monotonic()
    limits = limits or Limits()
    stop = should_stop or (lambda: False)
    if not segments:
        raise InvalidInputError("nothing to assemble")
    info = probe_input(Path(input_path), limits)
    output_path = Path(output_path)
    tag = uuid.uuid4().hex[:8]
    joined = output_path.with_name(f".{output_path.name}.{tag}.video.mp4")
    partial = output_path.with_name(f".{output_path.name}.{tag}.partial.mp4")
    try:
        frames, width, height = concat(segments, joined, stop)
        decoder = video.Decoder(Path(input_path))
        try:
            others = decoder.others
        finally:
            decoder.close()
        video.mux(
            joined, Path(input_path), partial, others=others, rotation=info.rotation,
            timeout_s=limits.mux_timeout_s, should_stop=stop,
        )
        os.replace(partial, output_path)
    finally:
        for temp in (joined, partial):
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    if info.rotation in (90, 270):
        width, height = height, width
    return Assembled(frames, width, height, round(time.monotonic() - started, 3))
