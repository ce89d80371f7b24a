"""Muxing: the encoded video with the source's audio, subtitles, fonts and metadata, into MP4 or MKV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av

from adapter import media
from adapter.video.decode import SourceStream
from contract.catalogue import reason
from contract.container import MKV_COPY_SUBTITLES, MUXERS, Container, keeps
from contract.media import AV_INPUT_OPTIONS, Arg, OwnInput, UserInput, ffmpeg

#: Audio codecs the MP4 muxer takes as they are; others are re-encoded to AAC (MKV takes them all).
MP4_AUDIO_COPY = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac", "mp2"})


def _audio_codec(container: Container, codec: str) -> str:
    return "copy" if container == "mkv" or codec in MP4_AUDIO_COPY else "aac"


def _subtitle_codec(container: Container, codec: str) -> str:
    if container == "mp4":
        return "mov_text"
    return "copy" if codec in MKV_COPY_SUBTITLES else "srt"


def _stream_args(container: Container, others: list[SourceStream]) -> tuple[list[Arg], list[str]]:
    """Maps with per-stream codecs, and per-stream metadata, of the source streams ``container`` keeps."""
    maps: list[Arg] = []
    meta = ["-map_metadata", "1", "-map_metadata:s:0", "1:s:v:0"]
    audio = subtitle = 0
    for stream in others:
        if stream.kind == "attachment" and container == "mkv":  # fonts of styled subtitles
            maps += ["-map", f"1:{stream.index}"]
        elif stream.kind == "audio":
            maps += ["-map", f"1:{stream.index}", f"-c:a:{audio}", _audio_codec(container, stream.codec)]
            audio += 1
        elif stream.kind == "subtitle" and keeps(container, stream.codec):
            codec = _subtitle_codec(container, stream.codec)
            maps += ["-map", f"1:{stream.index}", f"-c:s:{subtitle}", codec]
            subtitle += 1
        else:
            continue
        # Stream metadata (language, titles; an attachment's file name and mime type) per output
        # stream: 0 is the video, then in map order.
        meta += [f"-map_metadata:s:{len(meta) // 2 - 1}", f"1:s:{stream.index}"]
    return maps, meta


def mux(
    video: Path,
    source: Path,
    output: Path,
    *,
    others: list[SourceStream],
    rotation: int,
    timeout_s: float,
    start_s: float = 0.0,
    container: Container = "mp4",
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Copy the encoded video with the source's audio, subtitles and metadata into ``container``.

    MP4 (faststart) keeps text subtitles as mov_text; MKV keeps styled (ASS) and picture subtitles
    as they are, with the fonts attached to the source. ``start_s`` is where the source's timeline
    starts (a TS cut from a broadcast starts at, say, 11.4 s): every stream shifts back by it, so the
    result starts at 0 with A/V sync exact. A negative start (MP4 edit lists for AAC priming or
    B-frame delay) is left as it is.
    """
    args: list[Arg] = ffmpeg("-copyts", OwnInput(video, "mp4"), UserInput(source), "-map", "0:v:0")
    maps, meta = _stream_args(container, others)
    args += [*maps, "-c:v", "copy", *meta, "-metadata:s:v:0", f"rotate={rotation}"]
    if start_s > 0:
        args += ["-output_ts_offset", f"{-start_s:.6f}"]
    if container == "mp4":
        args += ["-movflags", "+faststart"]
    args += ["-f", MUXERS[container], f"file:{output.resolve()}"]
    media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=reason("media.mux_failed"))


def kept_subtitles(source: Path, container: Container) -> list[Arg]:
    """Maps and codecs carrying input 0's subtitles (and, in MKV, its fonts) into ``container``.

    For a mux whose first input is a finished or source video (the audio description's): the streams
    are listed from the file itself, so what an earlier mux converted or left out is seen as it is.
    """
    try:
        with av.open(f"file:{source.resolve()}", options=dict(AV_INPUT_OPTIONS)) as opened:
            kinds = [
                (s.type, s.codec_context.codec.canonical_name if s.codec_context else "")
                for s in opened.streams
            ]
    except av.FFmpegError:
        return []  # unreadable here means ffmpeg fails on it too, with its own error
    args: list[Arg] = []
    subtitles = [codec for kind, codec in kinds if kind == "subtitle"]
    for position, codec in enumerate(subtitles):
        if keeps(container, codec):
            args += ["-map", f"0:s:{position}", f"-c:s:{len(args) // 4}", _subtitle_codec(container, codec)]
    if container == "mkv" and any(kind == "attachment" for kind, _ in kinds):
        args += ["-map", "0:t"]
    return args
