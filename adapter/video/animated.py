"""Animated GIF and WebP outputs, and the picture-only MP4/MKV of an animated image.

The pipeline encodes the upscaled pictures into its usual video-only MP4 (each picture at its own
timestamp, so the source's delays survive). For ``--container gif|webp`` that file becomes the output:

* GIF: a palette per picture (``palettegen=stats_mode=single``, ``paletteuse=new=1``): a scene cut or a
  fade gets the colours it needs instead of one palette starved by the whole loop. Dithering is
  ``sierra2_4a`` error diffusion: an upscaled picture is smooth, and ordered (Bayer) dithering draws a
  visible grid on its gradients, while sierra2_4a scatters less noise than Floyd–Steinberg.
* WebP: ``libwebp_anim`` looping forever, lossy at quality 90; lossless where the picture has
  transparency (ffmpeg's libwebp wrapper drops the alpha plane of lossy pictures).

Where the source had transparency, the output keeps it: each picture's alpha is read again from the
source (``contract.animation``), scaled to the output size and joined to the upscaled colour in an
intermediate (PNG pictures in MOV) that ffmpeg turns into the GIF (one palette entry kept for
transparency) or WebP (``yuva420p``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from adapter import media
from contract import animation, storage
from contract.catalogue import reason
from contract.container import MUXERS, Container
from contract.media import Arg, OwnInput, ffmpeg

#: Dithering of GIF outputs (see the module's docstring).
GIF_DITHER = "sierra2_4a"
#: Lossy WebP quality (0–100).
WEBP_QUALITY = 90


def _gif_args(alpha: bool) -> list[str]:
    reserve = ":reserve_transparent=1" if alpha else ":reserve_transparent=0"
    graph = (
        f"[0:v]split[a][b];[a]palettegen=stats_mode=single{reserve}[p];"
        f"[b][p]paletteuse=new=1:dither={GIF_DITHER}:alpha_threshold=128"
    )
    return ["-filter_complex", graph, "-loop", "0"]


def _webp_args(alpha: bool) -> list[str]:
    # ffmpeg's libwebp wrapper drops the alpha plane of lossy pictures: transparency needs lossless.
    quality = ["-lossless", "1"] if alpha else ["-quality", str(WEBP_QUALITY)]
    pix_fmt = "yuva420p" if alpha else "yuv420p"
    return ["-map", "0:v:0", "-c:v", "libwebp_anim", *quality, "-pix_fmt", pix_fmt, "-loop", "0"]


def write(
    video: Path,
    output: Path,
    container: Container,
    *,
    alpha_source: tuple[Path, animation.AnimationFormat] | None,
    timeout_s: float,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Turn the encoded ``video`` into ``output`` as ``container`` (gif/webp), alpha from ``alpha_source``."""
    if container not in ("gif", "webp"):
        _copy_video(video, output, container, timeout_s, should_stop)
        return
    joined = storage.temporary(output.with_suffix(".mov"), f"rgba.{uuid.uuid4().hex[:8]}")
    try:
        source: Arg = OwnInput(video, "mp4")
        if alpha_source is not None:
            _join_alpha(video, joined, *alpha_source)
            source = OwnInput(joined, "mov")
        how = _gif_args if container == "gif" else _webp_args
        args = ffmpeg(
            source, *how(alpha_source is not None), "-f", MUXERS[container], f"file:{output.resolve()}"
        )
        media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=reason("media.output_failed"))
    finally:
        with contextlib.suppress(FileNotFoundError):
            joined.unlink()


def _copy_video(
    video: Path, output: Path, container: Container, timeout_s: float, should_stop: Callable[[], bool] | None
) -> None:
    """The video alone in MP4 (faststart) or MKV: an animated image has no sound or subtitles to carry."""
    args: list[Arg] = ffmpeg(OwnInput(video, "mp4"), "-map", "0:v:0", "-c:v", "copy")
    if container == "mp4":
        args += ["-movflags", "+faststart"]
    args += ["-f", MUXERS[container], f"file:{output.resolve()}"]
    media.run(args, timeout_s=timeout_s, should_stop=should_stop, failed=reason("media.mux_failed"))


def _join_alpha(video: Path, joined: Path, source: Path, kind: animation.AnimationFormat) -> None:
    """Write ``joined``: the upscaled colour of ``video`` with each source picture's alpha, scaled to fit."""
    with (
        av.open(f"file:{video.resolve()}", format="mp4") as colour,
        av.open(str(joined), mode="w", format="mov") as out,
    ):
        stream = colour.streams.video[0]
        target: Any = out.add_stream("png", rate=stream.average_rate or 25)
        target.width, target.height = stream.codec_context.width, stream.codec_context.height
        target.pix_fmt = "rgba"
        base = stream.time_base or Fraction(1, 1000)
        target.time_base = target.codec_context.time_base = base
        alphas = (rgba[..., 3] for rgba, _ in animation.frames(source, kind))
        for picture in colour.decode(stream):
            alpha = next(alphas, None)
            rgb = picture.to_ndarray(format="rgb24")
            size = (rgb.shape[1], rgb.shape[0])
            plane = np.full(rgb.shape[:2], 255, np.uint8) if alpha is None else _scaled(alpha, size)
            frame = av.VideoFrame.from_ndarray(np.dstack([rgb, plane]), format="rgba")
            frame.pts, frame.time_base = picture.pts, base
            out.mux(target.encode(frame))
        out.mux(target.encode(None))


def _scaled(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An alpha plane at ``size`` (w, h): linear, so edges stay soft without Lanczos' ringing."""
    if (alpha.shape[1], alpha.shape[0]) == size:
        return alpha
    return np.asarray(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
