"""Video I/O: decode to RGB frames, encode RGB frames, mux the encoded video with the source's other streams.

Frames never touch the disk: PyAV decodes the input to RGB arrays and encodes RGB arrays into a
video-only file; ffmpeg then copies that video with the source's audio, subtitles and metadata
into the final MP4. Colour conversion uses the input's matrix and range both ways, and the output
is tagged with them, so an SD BT.601 input upscaled to HD stays BT.601 (not washed out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from adapter import media
from adapter.deinterlacer import TIME_BASE_FACTOR, Deinterlace, Deinterlacer
from adapter.errors import InvalidInputError, LimitExceededError, StorageError, TransientJobError
from adapter.geometry import fitted_size, letterbox
from contract.catalogue import reason
from contract.media import AV_INPUT_OPTIONS, Arg, OwnInput, UserInput, ffmpeg
from contract.probe import MediaInfo

# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange values.
UNSPECIFIED = 2
SPC_BT709, SPC_BT470BG, SPC_SMPTE170M = 1, 5, 6
RANGE_MPEG, RANGE_JPEG = 1, 2
# AVColorSpace -> swscale matrix (SWS_CS_*); unknown matrices fall back to BT.601 like ffmpeg does.
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
#: Audio codecs the MP4 muxer takes as they are; others are re-encoded to AAC.
MP4_AUDIO_COPY = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac", "mp2"})
#: Text subtitles that become mov_text in MP4; bitmap subtitles cannot and are dropped.
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
#: Frame area from which the decoder uses threads (below it, thread hand-offs cost more than they save).
log = logging.getLogger(__name__)

_THREADED_DECODE_PIXELS = 640 * 360


@dataclass(frozen=True)
class Colour:
    """Colour description of a stream: AV* enum values used both for conversion and for tags."""

    space: int
    primaries: int
    trc: int
    range: int

    @property
    def sws_matrix(self) -> int:
        """The swscale matrix for RGB↔YUV conversion."""
        return _SWS_MATRIX.get(self.space, 5)

    @property
    def full_range(self) -> bool:
        """Whether luma spans 0..255 rather than 16..235."""
        return self.range == RANGE_JPEG


def colour_of(frame: av.VideoFrame) -> Colour:
    """The frame's colour; untagged values get players' convention (BT.709 from 720 lines, else BT.601)."""
    hd = frame.height >= 720
    space = (
        frame.colorspace
        if frame.colorspace not in (0, UNSPECIFIED, 3)
        else (SPC_BT709 if hd else SPC_SMPTE170M)
    )
    family = SPC_BT709 if space == SPC_BT709 else SPC_SMPTE170M
    primaries = frame.color_primaries if frame.color_primaries not in (0, UNSPECIFIED, 3) else family
    trc = frame.color_trc if frame.color_trc not in (0, UNSPECIFIED, 3) else family
    full = frame.color_range == RANGE_JPEG or frame.format.name.startswith("yuvj")
    return Colour(space=space, primaries=primaries, trc=trc, range=RANGE_JPEG if full else RANGE_MPEG)


@dataclass(frozen=True)
class StreamLimits:
    """What a decoded stream may hold: a frame box (either orientation), a timeline and a frame count."""

    max_width: int
    max_height: int
    max_duration_s: float
    max_frames: int


def _pts(picture: av.VideoFrame) -> int:
    """A decoded picture's pts (the decoder gives every frame one before it leaves ``_decoded``)."""
    assert picture.pts is not None
    return picture.pts


def check_frame(frame: av.VideoFrame, limits: StreamLimits) -> None:
    """Refuse a frame beyond the box (the probe's orientation-free rule), wherever it is in the stream."""
    w, h = frame.width, frame.height
    big, small = max(limits.max_width, limits.max_height), min(limits.max_width, limits.max_height)
    if max(w, h) > big or min(w, h) > small:
        size = {"width": w, "height": h, "max_width": limits.max_width, "max_height": limits.max_height}
        raise LimitExceededError(reason("media.frame_too_large", **size))


@dataclass(frozen=True)
class SourceStream:
    """A non-video stream of the source and how it goes into the MP4."""

    index: int
    kind: str
    codec: str


class Decoder:
    """Decodes the first video stream of a local file into RGB24 arrays with their timestamps.

    Given the probe's ``info``, its frame rate and time base are the ones used (one frame-rate rule for
    the whole job); without it, PyAV's own are the fallback (tools and benchmarks).
    """

    def __init__(
        self,
        path: Path,
        info: MediaInfo | None = None,
        *,
        limits: StreamLimits | None = None,
        deinterlace: Deinterlace | None = None,
    ) -> None:
        self._limits = limits
        try:
            self._container = av.open(f"file:{Path(path).resolve()}", options=dict(AV_INPUT_OPTIONS))
        except (av.FFmpegError, OSError) as exc:
            raise InvalidInputError(reason("media.open_failed")) from exc
        if not self._container.streams.video:
            self._container.close()
            raise InvalidInputError(reason("media.no_video_stream"))
        self._stream = self._container.streams.video[0]
        # Decoder threads pay for themselves only on large frames; on small ones they cost CPU time
        # that the model (sharing the cores on CPU hosts) would otherwise get.
        ctx = self._stream.codec_context
        if (ctx.width or 0) * (ctx.height or 0) >= _THREADED_DECODE_PIXELS:
            self._stream.thread_type = "AUTO"
        # One reformatter for the whole stream keeps one swscale context; a new one per frame costs
        # more than the conversion itself (context set-up, thread pool start).
        self._reformatter = VideoReformatter()
        if info is not None:
            self._source_time_base, self._source_fps = info.time_base, info.fps
        else:
            self._source_time_base = self._stream.time_base or Fraction(1, 90000)
            self._source_fps = Fraction(self._stream.average_rate or self._stream.guessed_rate or 25)
        self._fields = None if deinterlace is None else Deinterlacer(deinterlace, self._source_time_base)
        #: Time base and rate of the pictures handed out: the source's, or bwdif's (half, and double the
        #: rate when every field becomes a picture).
        self.time_base: Fraction = self._source_time_base
        self.fps: Fraction = self._source_fps
        if deinterlace is not None:
            self.time_base = self._source_time_base * TIME_BASE_FACTOR
            self.fps = self._source_fps * deinterlace.rate_factor
        self.colour: Colour | None = None
        #: Whether some frames were fitted into the first frame's size (a size change mid-stream).
        self.resized = False
        self.others = [
            SourceStream(s.index, s.type, s.codec_context.name if s.codec_context else "")
            for s in self._container.streams
            if s.type in ("audio", "subtitle")
        ]

    def frames(
        self, start_pts: int | None = None, end_pts: int | None = None
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Yield (RGB frame HxWx3 uint8, pts in ``time_base``); pts are made strictly increasing.

        With bounds (in the source's time base), only pictures whose time lies in ``[start_pts, end_pts)``
        are yielded, each with its own pts: decoding starts at the keyframe at or before ``start_pts``;
        the frames before the start are decoded (they are references, and the deinterlacer's neighbours)
        but dropped.
        """
        first: tuple[int, int] | None = None
        last: int | None = None
        try:
            for picture in self._pictures(start_pts, end_pts):
                first = first or (picture.width, picture.height)
                pts = _pts(picture) if last is None or _pts(picture) > last else last + 1
                last = pts
                yield self._rgb(picture, first), pts
        except av.FFmpegError as exc:
            raise InvalidInputError(reason("media.decode_failed")) from exc

    def _pictures(self, start_pts: int | None, end_pts: int | None) -> Iterator[av.VideoFrame]:
        """Decoded (and deinterlaced) pictures inside the bounds, pts in ``time_base``."""
        ratio = self._source_time_base / self.time_base  # 2 when deinterlacing (bwdif halves it)

        def inside(picture: av.VideoFrame) -> bool:
            at = _pts(picture) / ratio  # the picture's time in the source's time base
            return (start_pts is None or at >= start_pts) and (end_pts is None or at < end_pts)

        for frame in self._decoded(start_pts, end_pts):
            yield from filter(inside, [frame] if self._fields is None else self._fields.push(frame))
        if self._fields is not None:
            yield from filter(inside, self._fields.flush())

    def _decoded(self, start_pts: int | None, end_pts: int | None) -> Iterator[av.VideoFrame]:
        """Source frames with strictly increasing pts, checked against the limits; one past the end."""
        step = max(1, round(1 / (self._source_fps * self._source_time_base)))
        last: int | None = None
        origin: int | None = None
        count = 0
        if start_pts is not None:
            self._container.seek(start_pts, stream=self._stream, backward=True, any_frame=False)
        for frame in self._container.decode(self._stream):
            if (start_pts is not None or end_pts is not None) and frame.pts is None:
                raise InvalidInputError(reason("media.no_timestamps"))
            pts = frame.pts if frame.pts is not None else (0 if last is None else last + step)
            if last is not None and pts <= last:
                pts = last + 1  # keep the encoder's timestamps monotonic on broken inputs
            frame.pts, last = pts, pts
            if self._limits is not None:
                check_frame(frame, self._limits)
            inside = start_pts is None or pts >= start_pts
            if inside and (end_pts is None or pts < end_pts):
                origin = pts if origin is None else origin
                count += 1
                self._check_timeline(pts - origin, count)
            yield frame
            if end_pts is not None and pts >= end_pts:
                return  # the deinterlacer has had the last inside frame's successor

    def _rgb(self, frame: av.VideoFrame, first: tuple[int, int]) -> np.ndarray:
        """The frame as RGB24 in the first frame's geometry (a later size is fitted in, aspect kept)."""
        if self.colour is None:
            self.colour = colour_of(frame)
        size = (frame.width, frame.height)
        target = size if size == first else fitted_size(size, first)
        if size != first and not self.resized:
            self.resized = True  # adaptive-stream recordings, joined clips: said once per job
            log.info("frame size changes from %dx%d to %dx%d; fitted into the first size", *first, *size)
        rgb = self._reformatter.reformat(
            frame,
            format="rgb24",
            width=target[0],
            height=target[1],
            src_colorspace=self.colour.sws_matrix,
            src_color_range=self.colour.range,
            threads=1,
        ).to_ndarray()
        return letterbox(rgb, first)

    def _check_timeline(self, elapsed_pts: int, count: int) -> None:
        """Stop at the limit: the decoded timeline or frame count is past what the job may hold."""
        if self._limits is None:
            return
        elapsed = elapsed_pts * self._source_time_base
        if elapsed > Fraction(self._limits.max_duration_s) or count > self._limits.max_frames:
            seconds = max(int(elapsed), int(count / self._source_fps))
            limit_s = round(self._limits.max_duration_s)
            raise LimitExceededError(reason("media.too_long_in_stream", seconds=seconds, limit_s=limit_s))

    def close(self) -> None:
        """Release the demuxer and decoder."""
        self._container.close()


#: What the preset "auto" stands for, by where the model runs. Beside a CPU model every encoder
#: millisecond is taken from the model (x264 ``medium`` at 704×576 costs 12–50 % of the model's CPU,
#: by host), so the cheapest preset wins: the file is ≈ 3× larger at the same CRF, the job faster.
#: Beside a GPU the CPU is the encoder's own: ``veryfast`` gives the smallest file at half ``medium``'s CPU.
AUTO_PRESETS = {"cpu": "ultrafast", "gpu": "veryfast"}


def resolve_preset(preset: str, encoder: str, device: str) -> str:
    """The encoder preset to use: ``auto`` by where the model runs (NVENC does not use the CPU)."""
    if preset != "auto":
        return preset
    if encoder == "h264_nvenc":
        return "medium"
    return AUTO_PRESETS.get(device, AUTO_PRESETS["cpu"])


def _encoder_options(encoder: str, crf: int, preset: str) -> dict[str, str]:
    if encoder == "h264_nvenc":
        presets = {
            "ultrafast": "p1",
            "superfast": "p1",
            "veryfast": "p2",
            "faster": "p3",
            "fast": "p3",
            "medium": "p4",
            "slow": "p5",
            "slower": "p6",
            "veryslow": "p7",
        }
        return {"preset": presets.get(preset, preset), "rc": "vbr", "cq": str(crf), "b": "0"}
    options = {"crf": str(crf), "preset": preset}
    if encoder == "libx265":
        options["x265-params"] = "log-level=error"
    return options


class Encoder:
    """Encodes RGB24 arrays with given timestamps into a video-only MP4, tagged with the source's colour."""

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        time_base: Fraction,
        fps: Fraction,
        colour: Colour,
        encoder: str = "libx264",
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        self._colour = colour
        self._time_base = time_base
        try:
            self._container = av.open(str(path), mode="w", format="mp4")
        except OSError as exc:
            raise StorageError(reason("media.output_failed")) from exc
        try:
            stream: Any = self._container.add_stream(encoder, rate=fps)
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.time_base = time_base
            ctx = stream.codec_context
            ctx.time_base = time_base
            ctx.colorspace, ctx.color_primaries = colour.space, colour.primaries
            ctx.color_trc, ctx.color_range = colour.trc, colour.range
            # The output's pixels are square (contract/sizing.py reaches the display size): say so, so
            # players never guess from an anamorphic source's tags.
            ctx.sample_aspect_ratio = Fraction(1, 1)
            ctx.options = _encoder_options(encoder, crf, preset)
            ctx.open()
        except (av.FFmpegError, ValueError) as exc:
            self._container.close()
            raise TransientJobError(reason("media.encoder_unavailable", encoder=encoder)) from exc
        self._stream = stream
        self._reformatter = VideoReformatter()

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one frame shown at ``pts`` (in the source time base)."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        yuv = self._reformatter.reformat(
            frame,
            format="yuv420p",
            dst_colorspace=self._colour.sws_matrix,
            dst_color_range=self._colour.range,
            threads=1,  # the encoder stage is one thread; swscale's own pool only adds hand-offs
        )
        yuv.pts, yuv.time_base = pts, self._time_base
        self._mux(self._stream.encode(yuv))

    def _mux(self, packets: list[av.Packet]) -> None:
        try:
            self._container.mux(packets)
        except OSError as exc:
            raise StorageError(reason("media.output_failed")) from exc

    def close(self, *, flush: bool = True) -> None:
        """Flush the encoder (unless abandoning) and close the file."""
        try:
            if flush:
                self._mux(self._stream.encode(None))
        finally:
            self._container.close()


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
