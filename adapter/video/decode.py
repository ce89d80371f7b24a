"""Decoding: the input's first video stream as RGB pictures (8 or 16 bits) with their timestamps.

Frames never touch the disk: PyAV decodes the input to RGB arrays (adapter/video/encoder.py encodes them, and
adapter/video/muxer.py copies the result with the source's other streams). Colour conversion uses the input's
matrix and range (adapter/video/colour.py). Deinterlacing, a size change mid-stream and an alpha channel are
handled here, before the model (adapter/video/deinterlacer.py, geometry.py, alpha.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from adapter.errors import InvalidInputError, LimitExceededError
from adapter.video.alpha import flatten, has_alpha
from adapter.video.colour import Colour, colour_of
from adapter.video.damage import MAX_SHARE, Damage
from adapter.video.deinterlacer import TIME_BASE_FACTOR, Deinterlace, Deinterlacer
from adapter.video.geometry import fitted_size, letterbox
from contract.catalogue import reason
from contract.media import AV_INPUT_OPTIONS
from contract.mediainfo import MediaInfo

log = logging.getLogger(__name__)
#: The RGBA twin of each RGB format the decoder hands out (alpha is read, then flattened onto black).
_WITH_ALPHA = {"rgb24": "rgba", "rgb48le": "rgba64le"}
#: Frame area from which the decoder uses threads (below it, thread hand-offs cost more than they save).
_THREADED_DECODE_PIXELS = 640 * 360


@dataclass(frozen=True)
class StreamLimits:
    """What a decoded stream may hold: a frame box (either orientation), a timeline and a frame count."""

    max_width: int
    max_height: int
    max_duration_s: float
    max_frames: int
    #: Share of lost pictures (replaced by the last good one) past which the stream is refused.
    max_damaged_share: float = MAX_SHARE


def _pts(picture: av.VideoFrame) -> int:
    """A decoded picture's pts (the decoder gives every frame one before it leaves ``_decoded``)."""
    assert picture.pts is not None
    return picture.pts


def check_frame(frame: av.VideoFrame, limits: StreamLimits) -> None:
    """Refuse a frame beyond the box (the probe's orientation-free rule), wherever it is in the stream."""
    check_size(frame.width, frame.height, limits)


def check_size(w: int, h: int, limits: StreamLimits) -> None:
    """Refuse a picture of ``w``×``h`` beyond the box (either orientation)."""
    big, small = max(limits.max_width, limits.max_height), min(limits.max_width, limits.max_height)
    if max(w, h) > big or min(w, h) > small:
        size = {"width": w, "height": h, "max_width": limits.max_width, "max_height": limits.max_height}
        raise LimitExceededError(reason("media.frame_too_large", **size))


@dataclass(frozen=True)
class SourceStream:
    """A non-video stream of the source (sound, subtitles, attached fonts) the muxer may carry over."""

    index: int
    kind: str
    #: ffprobe's name of the codec (``hdmv_pgs_subtitle``, ``mp3``), not the decoder's; "" for attachments.
    codec: str


class Pictures(Protocol):
    """What the stages read pictures from: ``Decoder`` (video) or
    ``adapter.video.animation.AnimationDecoder``."""

    @property
    def time_base(self) -> Fraction:
        """Time base of the pictures' pts."""
        ...

    @property
    def fps(self) -> Fraction:
        """Their frame rate (the probe's, or the deinterlacer's)."""
        ...

    @property
    def colour(self) -> Colour | None:
        """Their colour (known once the first picture is decoded)."""
        ...

    @property
    def resized(self) -> bool:
        """Whether some pictures were fitted into the first one's size."""
        ...

    @property
    def flattened(self) -> bool:
        """Whether transparency was laid on a background."""
        ...

    @property
    def key(self) -> bool:
        """Whether the picture last handed out was a keyframe."""
        ...

    @property
    def others(self) -> list[SourceStream]:
        """The source's streams other than its video."""
        ...

    @property
    def damage(self) -> Damage:
        """Damage met so far."""
        ...

    def frames(
        self, start_pts: int | None = None, end_pts: int | None = None
    ) -> Iterator[tuple[np.ndarray, int]]:
        """(RGB picture, pts in ``time_base``), pts strictly increasing."""
        ...

    def close(self) -> None:
        """Release what the source holds open."""
        ...


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
        deep: bool = False,
    ) -> None:
        self._limits = limits
        #: Damage met while decoding: lost pictures replaced by the last good one (adapter/video/damage.py).
        self.damage = Damage(limits.max_damaged_share if limits is not None else MAX_SHARE)
        self._planned = info.frames if info is not None else 0
        #: Hand out 16-bit RGB (rgb48) instead of 8-bit: a high-bit-depth source keeps its precision.
        self._format = "rgb48le" if deep else "rgb24"
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
        #: Whether the pictures had an alpha channel, flattened onto black.
        self.flattened = False
        #: Whether the picture last handed out was a keyframe (region inference refreshes there).
        self.key = False
        self.others = [
            SourceStream(s.index, s.type, s.codec_context.codec.canonical_name if s.codec_context else "")
            for s in self._container.streams
            if s.type in ("audio", "subtitle", "attachment")
        ]

    def frames(
        self, start_pts: int | None = None, end_pts: int | None = None
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Yield (RGB frame HxWx3 uint8, or uint16 when deep; pts in ``time_base``), pts strictly increasing.

        With bounds (in the source's time base), only pictures whose time lies in ``[start_pts, end_pts)``
        are yielded, each with its own pts: decoding starts at the keyframe at or before ``start_pts``;
        the frames before the start are decoded (they are references, and the deinterlacer's neighbours)
        but dropped.
        """
        first: tuple[int, int] | None = None
        last: int | None = None
        held: np.ndarray | None = None
        step = 1 / (self.fps * self.time_base) if self.fps else Fraction(0)
        try:
            for picture in self._pictures(start_pts, end_pts):
                first = first or (picture.width, picture.height)
                pts = _pts(picture) if last is None or _pts(picture) > last else last + 1
                if last is not None and held is not None:
                    for lost in self.damage.missing(last, pts, step):  # a player shows the last good one
                        yield self._counted(held, lost)
                last = pts
                self.key = bool(picture.key_frame)
                held = self._rgb(picture, first)
                self.damage.decoded += 1
                yield self._counted(held, pts)
        except av.FFmpegError as exc:
            raise InvalidInputError(reason("media.decode_failed")) from exc
        self.damage.check(final=True, planned=self._planned)

    def _counted(self, rgb: np.ndarray, pts: int) -> tuple[np.ndarray, int]:
        """A picture handed out, counted; too many lost so far stops the run early."""
        self.damage.total += 1
        if self.damage.lost:
            self.damage.check(final=False, planned=self._planned)
        return rgb, pts

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

    def _from(self, start_pts: int | None) -> Iterator[av.VideoFrame]:
        """Decoded frames from a keyframe at or before ``start_pts`` (None: from the start).

        Seeking in MPEG-TS/PS is by byte position and can land one keyframe late (every frame up to it
        would be lost from a segment), so when the first frame is past the start the seek backs off by
        1 s, 2 s, 4 s... until it is not (at worst to the file's start). When deinterlacing, the frame
        before the start is needed too (bwdif reads the previous frame's fields), so the first frame must
        come strictly before it.
        """
        if start_pts is None:
            yield from self._surviving()
            return
        second = max(1, round(1 / self._source_time_base))
        back = 0
        while True:
            self._container.seek(start_pts - back, stream=self._stream, backward=True, any_frame=False)
            decoded = self._surviving()
            first = next(decoded, None)
            strict = self._fields is not None
            # Nothing at all after the seek is late too: damage took the keyframe the seek found.
            late = first is None or (
                first.pts is not None and (first.pts >= start_pts if strict else first.pts > start_pts)
            )
            if not late or back > start_pts + second:  # not late, or already back to the very start
                if first is not None:
                    yield first
                yield from decoded
                return
            back = second if back == 0 else back * 2

    def _surviving(self) -> Iterator[av.VideoFrame]:
        """Every picture the decoder can make: refused packets are skipped, damage is counted as evidence.

        The decoder's own error concealment is kept (a concealed picture is shown, as players do). A
        demuxer that cannot go on past damaged bytes ends the stream there: its readable part is kept.
        """
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:  # the container itself is unreadable from here on
                self.damage.evidence += 1
                log.info("the container cannot be read past damaged bytes; its readable part is kept")
                return
            self.damage.evidence += bool(packet.is_corrupt)
            try:
                pictures = packet.decode()
            except av.FFmpegError:  # a packet the decoder refuses: its picture is missing
                self.damage.evidence += 1
                continue
            for picture in pictures:
                self.damage.evidence += bool(picture.is_corrupt)
                yield picture

    def _decoded(self, start_pts: int | None, end_pts: int | None) -> Iterator[av.VideoFrame]:
        """Source frames with strictly increasing pts, checked against the limits; one past the end."""
        step = max(1, round(1 / (self._source_fps * self._source_time_base)))
        last: int | None = None
        origin: int | None = None
        count = 0
        for frame in self._from(start_pts):
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
        alpha = has_alpha(frame)
        if alpha and not self.flattened:
            self.flattened = True
            log.info("the video has an alpha channel; it is flattened onto black")
        rgb = self._reformatter.reformat(
            frame,
            format=_WITH_ALPHA[self._format] if alpha else self._format,
            width=target[0],
            height=target[1],
            src_colorspace=self.colour.sws_matrix,
            src_color_range=self.colour.range,
            threads=1,
        ).to_ndarray()
        rgb = flatten(rgb) if alpha else rgb
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
