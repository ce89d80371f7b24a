"""Media probing with ffprobe behind protocol and format allow-lists, a timeout and size limits.

``probe()`` reads only the local file it is given: ffprobe runs through ``contract.media.run`` as a
``UserInput`` (``-protocol_whitelist file``, ``-format_whitelist`` of demuxers that never open other
files, the path as ``file:<absolute path>`` so a name can never be read as a URL or option), and text
playlists are refused from their first bytes before ffprobe starts. A non-zero exit is a
``ProbeError``; the runner's transient failures (``media.MediaTimeout``...) propagate as they are.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from contract import animation, limits, media
from contract.catalogue import reason
from contract.media import ALLOWED_DEMUXERS as ALLOWED_DEMUXERS  # re-exported: defined once, in media
from contract.media import ALLOWED_FORMATS as ALLOWED_FORMATS
from contract.media import UserInput
from contract.mediainfo import MediaInfo, ProbeError

#: File extensions the service accepts (the backend's ``accepted`` list), with the MIME type an original is
#: served back as.
ACCEPTED_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".mts": "video/mp2t",  # AVCHD camcorders
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".vob": "video/mpeg",  # DVD rips (MPEG-PS)
    ".wmv": "video/x-ms-wmv",
    ".ogv": "video/ogg",
    **animation.TYPES,  # animated GIF, APNG, animated WebP (judged by their content, not the name)
}
ACCEPTED_EXTENSIONS: tuple[str, ...] = tuple(ACCEPTED_TYPES)


# Leading bytes of container formats we accept: a file that starts like one but fails is corrupt,
# anything else that fails is not a video at all.
_MAGIC = (
    (4, b"ftyp"),
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"free"),
    (4, b"wide"),
    (4, b"skip"),
    (0, b"\x1a\x45\xdf\xa3"),
    (0, b"RIFF"),
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),
    (0, b"\x30\x26\xb2\x75"),
    (0, b"OggS"),
)
# Text formats that make a demuxer open further files or URLs.
_PLAYLIST_MARKERS = (b"#EXTM3U", b"#EXT-X-", b"ffconcat", b"<?xml", b"<MPD", b"[playlist]", b"file ")


def _fraction(text: str | None) -> Fraction | None:
    """Parse ffprobe's ``num/den``; None for missing or zero denominators."""
    if not text or "/" not in text:
        return None
    num, den = text.split("/", 1)
    try:
        value = Fraction(int(num), int(den))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _tag(value: Any) -> str | None:
    """Colour tags: ffprobe's ``unknown``/``reserved`` mean unset."""
    if not value or value in ("unknown", "reserved", "unspecified"):
        return None
    return str(value)


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(4096)
    except FileNotFoundError as exc:
        raise ProbeError("not_video", reason("media.missing")) from exc
    except OSError as exc:
        raise ProbeError("corrupt", reason("media.unreadable")) from exc


def _looks_like_container(head: bytes) -> bool:
    if len(head) > 188 and head[0] == head[188] == 0x47:  # MPEG-TS sync bytes
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _MAGIC)


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(rotate) % 360 if rotate and str(rotate).lstrip("-").isdigit() else 0


def _run_ffprobe(path: Path, timeout_s: float) -> dict[str, Any]:
    """ffprobe's JSON on ``path``; a non-zero exit is a ProbeError, the runner's other failures propagate."""
    args = ["ffprobe", "-v", "error", "-hide_banner", "-print_format", "json"]
    args += ["-show_format", "-show_streams"]
    try:
        done = media.run([*args, UserInput(path)], timeout_s=timeout_s)
    except media.MediaFailed as exc:
        if "not on whitelist" in exc.tail:
            raise ProbeError("unsupported", reason("media.format_refused")) from exc
        raise ProbeError("corrupt", reason("media.damaged")) from exc
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ProbeError("corrupt", reason("media.unanalysable")) from exc
    return data


def probe(
    path: Path,
    *,
    max_width: int,
    max_height: int,
    max_duration_s: float,
    timeout_s: float = limits.PROBE_TIMEOUT_S,
) -> MediaInfo:
    """Describe the video at ``path`` or raise ProbeError; reads nothing but that local file."""
    path = Path(path).resolve()
    kind = animation.sniff(_sniff(path)) if path.is_file() else None
    if kind is not None:
        return _animation(path, kind, max_width, max_height, max_duration_s)
    data = _read(path, timeout_s)
    format_name, video = _video_stream(data)
    frame_w, frame_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if frame_w <= 0 or frame_h <= 0:
        raise ProbeError("corrupt", reason("media.no_frame_size"))
    rotation = _rotation(video)
    width, height = (frame_h, frame_w) if rotation in (90, 270) else (frame_w, frame_h)
    _check_size(width, height, max_width, max_height)
    fps, duration = _timing(video, data.get("format") or {}, max_duration_s)
    counted = str(video.get("nb_frames") or "")
    frames_exact = counted.isdigit() and int(counted) > 0
    if duration is None:  # no duration in the header (a browser's WebM): the demuxed packets tell
        duration, packets = _counted_duration(path, timeout_s, max_duration_s)
        counted, frames_exact = str(packets), packets > 0
    streams: list[dict[str, Any]] = data.get("streams") or []
    return MediaInfo(
        width=width,
        height=height,
        frame_width=frame_w,
        frame_height=frame_h,
        rotation=rotation,
        fps=fps,
        time_base=_fraction(video.get("time_base")) or Fraction(1, 90000),
        duration_s=duration,
        frames=int(counted) if frames_exact else max(1, round(duration * float(fps))),
        frames_exact=frames_exact,
        audio_streams=sum(1 for s in streams if s.get("codec_type") == "audio"),
        subtitle_streams=sum(1 for s in streams if s.get("codec_type") == "subtitle"),
        pix_fmt=str(video.get("pix_fmt") or ""),
        color_range=_tag(video.get("color_range")),
        color_space=_tag(video.get("color_space")),
        color_primaries=_tag(video.get("color_primaries")),
        color_transfer=_tag(video.get("color_transfer")),
        format_name=format_name,
        video_codec=str(video.get("codec_name")),
        start_time_s=_float(video.get("start_time")) or 0.0,
        field_order=_tag(video.get("field_order")),
        container_start_s=_float((data.get("format") or {}).get("start_time")) or 0.0,
        sar=_fraction(str(video.get("sample_aspect_ratio") or "").replace(":", "/")) or Fraction(1),
        subtitle_codecs=tuple(
            str(s.get("codec_name") or "") for s in streams if s.get("codec_type") == "subtitle"
        ),
        attachments=sum(1 for s in streams if s.get("codec_type") == "attachment"),
    )


def refuse_playlist_head(head: bytes) -> None:
    """ProbeError (``media.playlist``) when a file's first bytes are a playlist or file list."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(stripped.startswith(marker) for marker in _PLAYLIST_MARKERS):
        raise ProbeError("unsupported", reason("media.playlist"))


def refuse_playlist(path: Path) -> None:
    """The playlist check ``probe`` makes first, for a file ffmpeg reads before the probe (quick runs)."""
    refuse_playlist_head(_sniff(path))


def _animation(
    path: Path, kind: animation.AnimationFormat, max_width: int, max_height: int, max_duration_s: float
) -> MediaInfo:
    """An animated image described by Pillow: its delays are the timeline (milliseconds)."""
    try:
        facts = animation.describe(path, kind)
    except animation.AnimationError as exc:
        raise ProbeError(exc.kind, exc.reason) from exc
    _check_size(facts.width, facts.height, max_width, max_height)
    duration = facts.duration_ms / 1000
    if duration > max_duration_s:
        lasts = reason("media.too_long", seconds=round(duration), limit_s=round(max_duration_s))
        raise ProbeError("too_large", lasts)
    count = len(facts.delays_ms)
    return MediaInfo(
        width=facts.width,
        height=facts.height,
        frame_width=facts.width,
        frame_height=facts.height,
        rotation=0,
        fps=Fraction(count * 1000, facts.duration_ms),
        time_base=animation.TIME_BASE,
        duration_s=duration,
        frames=count,
        frames_exact=True,
        audio_streams=0,
        subtitle_streams=0,
        pix_fmt="rgba" if facts.transparent else "rgb24",
        color_range=None,
        color_space=None,
        color_primaries=None,
        color_transfer=None,
        format_name=kind,
        video_codec=kind,
    )


def is_animation(info: MediaInfo) -> bool:
    """Whether the probe described an animated image (GIF, APNG, WebP), read with Pillow."""
    return info.format_name in animation.PILLOW_FORMATS


def _read(path: Path, timeout_s: float) -> dict[str, Any]:
    """ffprobe's JSON for a local file, refusing missing, empty and playlist files before it starts."""
    if not path.is_file():
        raise ProbeError("not_video", reason("media.missing"))
    head = _sniff(path)
    if not head:
        raise ProbeError("not_video", reason("media.empty"))
    refuse_playlist_head(head)
    try:
        return _run_ffprobe(path, timeout_s)
    except ProbeError as exc:
        if exc.kind == "corrupt" and not _looks_like_container(head):
            raise ProbeError("not_video", reason("media.not_video")) from exc
        raise


def _video_stream(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The accepted container's name and its first real video stream (cover art does not count)."""
    format_name = str((data.get("format") or {}).get("format_name", ""))
    if not set(format_name.split(",")) & set(ALLOWED_DEMUXERS):
        raise ProbeError("unsupported", reason("media.format_not_accepted", format=format_name or "unknown"))
    streams: list[dict[str, Any]] = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not videos:
        raise ProbeError("not_video", reason("media.no_video_stream"))
    codec = str(videos[0].get("codec_name") or "")
    if not codec or codec == "none":
        raise ProbeError("unsupported", reason("media.codec_unsupported"))
    return format_name, videos[0]


def _check_size(width: int, height: int, max_width: int, max_height: int) -> None:
    """Refuse frames beyond the limit; orientation does not matter (portrait 2160x3840 fits 3840x2160)."""
    if max(width, height) > max(max_width, max_height) or min(width, height) > min(max_width, max_height):
        size = {"width": width, "height": height, "max_width": max_width, "max_height": max_height}
        raise ProbeError("too_large", reason("media.too_large", **size))


def _timing(
    video: dict[str, Any], fmt: dict[str, Any], max_duration_s: float
) -> tuple[Fraction, float | None]:
    """Frame rate and duration (stream's, else the container's; None if neither has one) within its limit."""
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate"))
    if fps is None or fps > 1000:
        raise ProbeError("corrupt", reason("media.no_frame_rate"))
    duration = _float(video.get("duration")) or _float(fmt.get("duration"))
    if duration is None or duration <= 0:
        return fps, None
    if duration > max_duration_s:
        lasts = reason("media.too_long", seconds=round(duration), limit_s=round(max_duration_s))
        raise ProbeError("too_large", lasts)
    return fps, duration


def _counted_duration(path: Path, timeout_s: float, max_duration_s: float) -> tuple[float, int]:
    """Duration and packet count of the demuxed video stream, for a header that states no duration."""
    from contract.stream import count_packets, refuse_exceeded  # stream builds on this module

    count = count_packets(path, timeout_s=timeout_s, max_duration_s=max_duration_s)
    refuse_exceeded(count, max_duration_s)
    if count.duration <= 0:
        raise ProbeError("corrupt", reason("media.no_duration"))
    return count.duration_s, count.packets


def keyframes(path: Path, *, timeout_s: float = 120) -> list[int]:
    """Sorted pts (first video stream's time base) of its keyframe packets; PyAV demuxes, decodes nothing.

    The same demuxing pass as ``contract.stream.count_packets`` (same allow-lists); call it only on a
    file ``probe`` accepted. An empty list means the container gave no usable timestamps (the caller
    then does not segment). Raises ``media.MediaTimeout`` when reading takes longer than ``timeout_s``.
    """
    from contract.stream import count_packets  # stream builds on this module

    return list(count_packets(path, timeout_s=timeout_s, max_duration_s=None).keyframes)
