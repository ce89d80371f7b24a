"""Media probing with ffprobe behind protocol and format allow-lists, a timeout and size limits.

``probe()`` reads only the local file it is given: ffprobe runs with ``-protocol_whitelist file``
and ``-format_whitelist`` (demuxers that never open other files), the path is passed as
``file:<absolute path>`` so a name can never be read as a URL or option, and text playlists are
refused from their first bytes before ffprobe starts.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

#: Demuxers allowed to open an upload. None of them reads other files or URLs
#: (hls, concat, image2, dash, tee, playlists and friends are absent on purpose).
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "mpegts",
    "flv",
    "mpeg",
    "asf",
    "ogg",
)
ALLOWED_FORMATS = ",".join(ALLOWED_DEMUXERS)
#: File extensions the service accepts (the backend's ``accepted`` list).
ACCEPTED_EXTENSIONS: tuple[str, ...] = (
    ".mp4",
    ".m4v",
    ".mov",
    ".mkv",
    ".webm",
    ".avi",
    ".ts",
    ".m2ts",
    ".flv",
    ".3gp",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".ogv",
)

ProbeKind = Literal["not_video", "unsupported", "too_large", "corrupt"]

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


class ProbeError(ValueError):
    """The file cannot be accepted; ``reason`` is one human line, ``kind`` the category."""

    def __init__(self, kind: ProbeKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: ProbeKind = kind
        self.reason = reason


@dataclass(frozen=True)
class MediaInfo:
    """What the pipeline and the backend need to know about an input video.

    ``width``/``height`` are the *display* size (after rotation); ``frame_width``/``frame_height``
    are the stored size of decoded frames. ``rotation`` is the clockwise display rotation in
    degrees (0, 90, 180, 270) as ffprobe reports it. ``frames`` is the container's frame count
    when it has one, else ``round(duration_s * fps)`` (``frames_exact`` tells which).
    """

    width: int
    height: int
    frame_width: int
    frame_height: int
    rotation: int
    fps: Fraction
    time_base: Fraction
    duration_s: float
    frames: int
    frames_exact: bool
    audio_streams: int
    subtitle_streams: int
    pix_fmt: str
    color_range: str | None
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    format_name: str
    video_codec: str
    start_time_s: float = 0.0
    #: Sample (pixel) aspect ratio of the stored frames; 1 when square or untagged.
    sar: Fraction = Fraction(1)

    @property
    def has_audio(self) -> bool:
        """Whether at least one audio stream is present."""
        return self.audio_streams > 0


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
        raise ProbeError("not_video", "the file does not exist") from exc
    except OSError as exc:
        raise ProbeError("corrupt", f"the file cannot be read ({exc.strerror})") from exc


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


def _ffprobe(
    path: Path, options: list[str], timeout_s: float, what: str
) -> subprocess.CompletedProcess[bytes]:
    """Run ffprobe with the protocol and format allow-lists; a timeout says ``what`` could not be read."""
    args = [
        "ffprobe",
        "-v",
        "error",
        "-hide_banner",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ALLOWED_FORMATS,
        *options,
        f"file:{path}",
    ]
    try:
        return subprocess.run(
            args, capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeError("corrupt", f"{what} could not be read within {timeout_s:g} s") from exc


def _run_ffprobe(path: Path, timeout_s: float) -> dict[str, Any]:
    options = ["-print_format", "json", "-show_format", "-show_streams"]
    done = _ffprobe(path, options, timeout_s, "the video")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "not on whitelist" in stderr:
            raise ProbeError("unsupported", "this container format is not accepted")
        raise ProbeError("corrupt", "the video file is damaged or truncated")
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ProbeError("corrupt", "the video file could not be analysed") from exc
    return data


def probe(
    path: Path,
    *,
    max_width: int,
    max_height: int,
    max_duration_s: float,
    timeout_s: float = 30,
) -> MediaInfo:
    """Describe the video at ``path`` or raise ProbeError; reads nothing but that local file."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ProbeError("not_video", "the file does not exist")
    head = _sniff(path)
    if not head:
        raise ProbeError("not_video", "the file is empty")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(stripped.startswith(marker) for marker in _PLAYLIST_MARKERS):
        raise ProbeError("unsupported", "playlists and file lists are not accepted; upload the video itself")
    try:
        data = _run_ffprobe(path, timeout_s)
    except ProbeError as exc:
        if exc.kind == "corrupt" and not _looks_like_container(head):
            raise ProbeError("not_video", "the file is not a video") from exc
        raise
    fmt = data.get("format") or {}
    format_name = str(fmt.get("format_name", ""))
    if not set(format_name.split(",")) & set(ALLOWED_DEMUXERS):
        raise ProbeError("unsupported", f"the container format {format_name or 'unknown'} is not accepted")
    streams: list[dict[str, Any]] = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not videos:
        raise ProbeError("not_video", "the file has no video stream")
    video = videos[0]
    codec = str(video.get("codec_name") or "")
    if not codec or codec == "none":
        raise ProbeError("unsupported", "the video codec is not supported")
    frame_w, frame_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if frame_w <= 0 or frame_h <= 0:
        raise ProbeError("corrupt", "the video has no readable frame size")
    rotation = _rotation(video)
    width, height = (frame_h, frame_w) if rotation in (90, 270) else (frame_w, frame_h)
    # Limits do not depend on orientation: a portrait 2160x3840 fits a 3840x2160 limit.
    if max(width, height) > max(max_width, max_height) or min(width, height) > min(max_width, max_height):
        raise ProbeError("too_large", f"the video is {width}x{height}; the limit is {max_width}x{max_height}")
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate"))
    if fps is None or fps > 1000:
        raise ProbeError("corrupt", "the video has no usable frame rate")
    time_base = _fraction(video.get("time_base")) or Fraction(1, 90000)
    duration = _float(video.get("duration")) or _float(fmt.get("duration"))
    if duration is None or duration <= 0:
        raise ProbeError("corrupt", "the video has no readable duration")
    if duration > max_duration_s:
        raise ProbeError(
            "too_large", f"the video lasts {duration:.0f} s; the limit is {max_duration_s:.0f} s"
        )
    counted = str(video.get("nb_frames") or "")
    frames_exact = counted.isdigit() and int(counted) > 0
    frames = int(counted) if frames_exact else max(1, round(duration * float(fps)))
    return MediaInfo(
        width=width,
        height=height,
        frame_width=frame_w,
        frame_height=frame_h,
        rotation=rotation,
        fps=fps,
        time_base=time_base,
        duration_s=duration,
        frames=frames,
        frames_exact=frames_exact,
        audio_streams=sum(1 for s in streams if s.get("codec_type") == "audio"),
        subtitle_streams=sum(1 for s in streams if s.get("codec_type") == "subtitle"),
        pix_fmt=str(video.get("pix_fmt") or ""),
        color_range=_tag(video.get("color_range")),
        color_space=_tag(video.get("color_space")),
        color_primaries=_tag(video.get("color_primaries")),
        color_transfer=_tag(video.get("color_transfer")),
        format_name=format_name,
        video_codec=codec,
        start_time_s=_float(video.get("start_time")) or 0.0,
        sar=_fraction(str(video.get("sample_aspect_ratio") or "").replace(":", "/")) or Fraction(1),
    )


def keyframes(path: Path, *, timeout_s: float = 120) -> list[int]:
    """Sorted pts (first video stream's time base) of its keyframe packets; reads packets, decodes nothing.

    Same allow-lists as ``probe``; call it only on a file ``probe`` accepted. An empty list means the
    container gave no usable timestamps (the caller then does not segment).
    """
    path = Path(path).resolve()
    options = ["-select_streams", "v:0", "-show_entries", "packet=pts,flags", "-of", "csv=p=0"]
    done = _ffprobe(path, options, timeout_s, "the keyframes")
    if done.returncode != 0:
        raise ProbeError("corrupt", "the video file is damaged or truncated")
    found: set[int] = set()
    for line in done.stdout.decode("ascii", "replace").splitlines():
        pts, _, flags = line.partition(",")
        if "K" in flags and pts.strip().lstrip("-").isdigit():
            found.add(int(pts))
    return sorted(found)
