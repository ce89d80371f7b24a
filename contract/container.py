"""The output's container: MP4 by default, MKV where the input has streams MP4 cannot carry without loss.

One rule for both sides: the backend picks the container at upload (it names the output's key, its
download name and content type), the adapter muxes what the key's suffix says, and the CLI picks the
same way for a file on disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

ContainerOption = Literal["auto", "mp4", "mkv", "gif", "webp"]
Container = Literal["mp4", "mkv", "gif", "webp"]
CONTAINER_OPTIONS: tuple[ContainerOption, ...] = ("auto", "mp4", "mkv", "gif", "webp")
#: Animated-image outputs: picture only (no sound, no subtitles), transparency kept
#: (``adapter.video.animated``).
ANIMATED: frozenset[Container] = frozenset({"gif", "webp"})

#: Text subtitles that MP4 keeps, as mov_text (styling and fonts are lost).
MP4_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
#: Subtitles Matroska keeps as they are (ASS keeps its styling, bitmaps their pictures).
MKV_COPY_SUBTITLES = frozenset(
    {"subrip", "ass", "ssa", "webvtt", "hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle"}
)
#: Text subtitles Matroska keeps converted to SubRip (it has no mov_text).
MKV_TEXT_SUBTITLES = frozenset({"mov_text", "text", "srt"})
#: Subtitles whose look lives in styles and attached fonts: MP4 flattens them, MKV keeps them.
STYLED_SUBTITLES = frozenset({"ass", "ssa"})

SUFFIXES: dict[Container, str] = {"mp4": ".mp4", "mkv": ".mkv", "gif": ".gif", "webp": ".webp"}
MEDIA_TYPES: dict[Container, str] = {
    "mp4": "video/mp4",
    "mkv": "video/x-matroska",
    "gif": "image/gif",
    "webp": "image/webp",
}
#: ffmpeg's muxer for each container.
MUXERS: dict[Container, str] = {"mp4": "mp4", "mkv": "matroska", "gif": "gif", "webp": "webp"}


def container_option(text: str) -> ContainerOption | None:
    """The option named by ``text`` (``auto``, ``mp4``, ``mkv``, ``gif``, ``webp``), or None."""
    for option in CONTAINER_OPTIONS:
        if text == option:
            return option
    return None


def keeps(container: Container, codec: str) -> bool:
    """Whether ``container`` keeps a subtitle stream of ``codec`` (as it is or converted to text)."""
    if container == "mp4":
        return codec in MP4_SUBTITLES
    if container in ANIMATED:
        return False
    return codec in MKV_COPY_SUBTITLES or codec in MKV_TEXT_SUBTITLES


def needs_mkv(subtitle_codecs: Iterable[str], attachments: int) -> bool:
    """Whether MP4 would lose something MKV keeps: picture subtitles, or styled subtitles with fonts."""
    codecs = set(subtitle_codecs)
    pictures = any(keeps("mkv", c) and not keeps("mp4", c) for c in codecs)
    return pictures or bool(attachments and codecs & STYLED_SUBTITLES)


def container_for(option: ContainerOption, subtitle_codecs: Iterable[str], attachments: int) -> Container:
    """The container a job writes: the one asked for, or under ``auto`` MKV only where MP4 would lose."""
    if option != "auto":
        return option
    return "mkv" if needs_mkv(subtitle_codecs, attachments) else "mp4"


def container_of_suffix(suffix: str) -> Container | None:
    """The container an output file's suffix names (``.mp4``, ``.mkv``, ``.gif``, ``.webp``), or None."""
    for container, known in SUFFIXES.items():
        if suffix.lower() == known:
            return container
    return None
