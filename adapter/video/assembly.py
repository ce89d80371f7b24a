"""Assembly of a segmented job: join the video-only segment files by stream copy, then mux the source's rest.

Every segment was encoded with the same settings, in the source's time base and with each frame's
own pts, and starts with a keyframe, so joining is a plain packet copy: no frame is re-encoded, no
timestamp is moved. The joined video then goes through the same ``muxer.mux`` as a whole-video run
(source audio, text subtitles, metadata, rotation, faststart), so audio stays in sync by pts.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av

from adapter.errors import InvalidInputError, JobCancelled, StorageError, TransientJobError
from adapter.limits import Limits
from adapter.video import muxer
from adapter.video.pipeline import mux_notes, open_decoder
from adapter.video.stages import Result, ShouldStop, probe_input
from contract import storage
from contract.catalogue import reason
from contract.container import Container
from contract.mediainfo import MediaInfo
from contract.probe import probe as ffprobe

#: Segment files are our own MP4s: nothing but the file protocol and the MP4 demuxer may open them.
_SEGMENT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": "mov,mp4"}


def _open(path: Path, number: int) -> Any:
    """Open segment file ``path`` (segment ``number``, counted from 1) with PyAV."""
    try:
        return av.open(f"file:{path.resolve()}", options=dict(_SEGMENT_OPTIONS))
    except FileNotFoundError as exc:
        raise TransientJobError(reason("job.segment_missing", number=number)) from exc
    except (av.FFmpegError, OSError) as exc:
        raise TransientJobError(reason("job.segment_unreadable", number=number)) from exc


class _Joined:
    """The output being written: its stream, the first segment's parameters, frames and the last dts."""

    def __init__(self, out: Any, template: Any) -> None:
        self.stream = out.add_stream_from_template(template)
        self.stream.time_base = template.time_base
        self.out = out
        self.signature = (template.codec_context.extradata, template.width, template.height)
        self.time_base = template.time_base
        self.frames = 0
        self.last_dts: int | None = None

    def copy(self, source: Any, number: int, should_stop: ShouldStop) -> None:
        """Copy one segment's video packets, refusing one that would not decode as part of the stream."""
        src = source.streams.video[0]
        if (src.codec_context.extradata, src.width, src.height) != self.signature:
            raise TransientJobError(reason("job.segment_mismatch", number=number))
        if src.time_base != self.time_base:
            raise TransientJobError(reason("job.segment_time_base", number=number))
        for packet in source.demux(src):
            if packet.dts is None:
                continue  # the demuxer's flush packet
            if should_stop():
                raise JobCancelled("cancelled")
            if self.last_dts is not None and packet.dts <= self.last_dts:
                raise InvalidInputError(reason("job.segment_overlap", number=number))
            self.last_dts = packet.dts
            packet.stream = self.stream
            self.out.mux(packet)
            self.frames += 1


def concat(segments: Sequence[Path], output: Path, should_stop: ShouldStop) -> tuple[int, int, int]:
    """Copy the video packets of ``segments`` in order into a video-only MP4; returns (frames, width, height).

    Refuses segments whose codec parameters differ from the first one's (they would not decode as one
    stream) and packets whose decode time does not move forward.
    """
    first = _open(segments[0], 1)
    try:
        template = first.streams.video[0]
        try:
            out = av.open(str(output), mode="w", format="mp4")
        except OSError as exc:
            raise StorageError(reason("job.join_not_created")) from exc
        try:
            joined = _Joined(out, template)
            for number, path in enumerate(segments, start=1):
                source = first if number == 1 else _open(path, number)
                try:
                    joined.copy(source, number, should_stop)
                finally:
                    if source is not first:
                        source.close()
        finally:
            out.close()
        return joined.frames, template.width, template.height
    finally:
        first.close()


def _never() -> bool:
    return False


def assemble(
    input_path: Path,
    segments: Sequence[Path],
    output_path: Path,
    *,
    info: MediaInfo | None = None,
    should_stop: ShouldStop | None = None,
    limits: Limits | None = None,
    container: Container = "mp4",
) -> Result:
    """Join ``segments`` and mux them with the input's other streams into ``output_path`` (atomically).

    ``info`` is the job's one probe of the input; a direct call without it probes here.
    """
    started, limits, stop = time.monotonic(), limits or Limits(), should_stop or _never
    source, output_path = Path(input_path), Path(output_path)
    if not segments:
        raise InvalidInputError(reason("job.nothing_to_assemble"))
    info = info or probe_input(ffprobe, source, limits)
    tag = uuid.uuid4().hex[:8]
    joined = storage.temporary(output_path.with_suffix(".mp4"), f"{tag}.video")
    partial = storage.temporary(output_path.with_suffix(".mp4"), tag)
    try:
        frames, width, height = concat(segments, joined, stop)
        decoder = open_decoder(source, info)  # only for the list of the source's other streams
        try:
            others = decoder.others
        finally:
            decoder.close()
        muxer.mux(
            joined,
            source,
            partial,
            others=others,
            rotation=info.rotation,
            timeout_s=limits.mux_timeout_s,
            start_s=info.container_start_s,
            container=container,
            should_stop=stop,
        )
        os.replace(partial, output_path)
    finally:
        for temp in (joined, partial):
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    if info.rotation in (90, 270):
        width, height = height, width
    notes = tuple(mux_notes(info, others, container))
    return Result(frames, width, height, round(time.monotonic() - started, 3), notes=notes)
