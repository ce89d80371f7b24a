"""Muxing: the encoded video with the source's audio, text subtitles and metadata, into a faststart MP4."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapter import media
from adapter.video import SourceStream
from contract.catalogue import reason
from contract.media import Arg, OwnInput, UserInput, ffmpeg

#: Audio codecs the MP4 muxer takes as they are; others are re-encoded to AAC.
MP4_AUDIO_COPY = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac", "mp2"})
#: Text subtitles that become mov_text in MP4; bitmap subtitles cannot and are dropped.
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})


def mux(
    video: Path,
    source: Path,
    output: Path,
    *,
    others: list[SourceStream],
    rotation: int,
    timeout_s: float,
    start_s: float = 0.0,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Copy the encoded video with the source's audio, text subtitles and metadata into a faststart MP4.

    ``start_s`` is where the source's timeline starts (a TS cut from a broadcast starts at, say, 11.4 s):
    every stream shifts back by it, so the result starts at 0 with A/V sync exact. A negative start (MP4
    edit lists for AAC priming or B-frame delay) is left as it is.
    """
    args: list[Arg] = ffmpeg("-copyts", OwnInput(video, "mp4"), UserInput(source), "-map", "0:v:0")
    # Stream metadata (language, titles) is mapped per output stream: 0 is the video, then in map order.
    meta = ["-map_metadata", "1", "-map_metadata:s:0", "1:s:v:0"]
    codecs: list[str] = []
    audio = 0
    for stream in others:
        if stream.kind == "audio":
            codecs += [f"-c:a:{audio}", "copy" if stream.codec in MP4_AUDIO_COPY else "aac"]
            audio += 1
        elif not (stream.kind == "subtitle" and stream.codec in TEXT_SUBTITLES):
            continue
        args += ["-map", f"1:{stream.index}"]
        meta += [f"-map_metadata:s:{len(meta) // 2 - 1}", f"1:s:{stream.index}"]
    args += [
        "-c:v",
        "copy",
        *codecs,
        "-c:s",
        "mov_text",
        *meta,
        "-metadata:s:v:0",
        f"rotate={rotation}",
        *(["-output_ts_offset", f"{-start_s:.6f}"] if start_s > 0 else []),
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        f"file:{output.resolve()}",
    ]
    media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=reason("media.mux_failed"))
