"""Which originals the page's browser (Chromium) plays as they are; the others get a small «before» proxy.

One rule, decided from the probe's container and video codec: the adapter writes a proxy exactly when
``needs_proxy`` says so, and the page plays the proxy (when there is one) instead of the original.
"""

from __future__ import annotations

from typing import Final

from contract.mediainfo import MediaInfo

#: Demuxer names in ffprobe's ``format_name`` of containers Chromium opens (MP4/MOV/3GP share the ``mov``
#: demuxer, reported as ``mov,mp4,m4a,3gp,3g2,mj2``; Matroska as ``matroska,webm``).
BROWSER_CONTAINERS: Final = frozenset({"mp4", "webm"})
#: Video codecs Chromium decodes in software, with the pixel formats it takes for each (empty: any).
BROWSER_CODECS: Final[dict[str, frozenset[str]]] = {
    # Chromium's H.264 decoder takes 8-bit 4:2:0 only (no High 10, no 4:2:2 from cameras).
    "h264": frozenset({"yuv420p", "yuvj420p"}),
    "vp8": frozenset(),
    "vp9": frozenset(),
    "av1": frozenset(),
}
#: The proxy's height cap (lines): small enough to write fast, big enough to judge the «before» side.
PROXY_MAX_HEIGHT: Final = 480


def browser_plays(format_name: str, video_codec: str, pix_fmt: str) -> bool:
    """Whether Chromium plays a file of this container, video codec and pixel format as it is."""
    formats = BROWSER_CODECS.get(video_codec)
    if not BROWSER_CONTAINERS & set(format_name.split(",")) or formats is None:
        return False
    return not formats or pix_fmt in formats


def needs_proxy(info: MediaInfo) -> bool:
    """Whether an original needs a playable proxy for the page's video comparison (animations: none)."""
    if info.format_name in ("gif", "apng", "webp"):  # ffmpeg's readers of them are off the allow-lists
        return False
    return not browser_plays(info.format_name, info.video_codec, info.pix_fmt)


def proxy_size(info: MediaInfo) -> tuple[int, int]:
    """The proxy's even, square-pixel size: the display size, capped to ``PROXY_MAX_HEIGHT`` lines."""
    # Non-square pixels (DV, DVD) widen the frame as stored; turned by 90°, they stretch the height instead.
    stretch = info.sar if info.rotation in (0, 180) else 1 / info.sar
    aspect = info.width / info.height * float(stretch)
    out_height = max(2, min(info.height, PROXY_MAX_HEIGHT) // 2 * 2)
    return max(2, round(out_height * aspect / 2) * 2), out_height
