"""Encoding: RGB pictures (8 or 16 bits) into a video-only MP4 tagged with the source's colour."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from adapter.errors import StorageError, TransientJobError
from adapter.video.colour import Colour
from contract.catalogue import reason

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


def _encoder_options(
    encoder: str, crf: int, preset: str, x265_params: tuple[str, ...] = ()
) -> dict[str, str]:
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
        options["x265-params"] = ":".join(("log-level=error", *x265_params))
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
        deep: bool = False,
        x265_params: tuple[str, ...] = (),
    ) -> None:
        self._colour = colour
        # 16-bit RGB in, 10-bit 4:2:0 out (HEVC Main10 with libx265), or 8-bit all the way.
        self._in_format, self._pix_fmt = ("rgb48le", "yuv420p10le") if deep else ("rgb24", "yuv420p")
        self._time_base = time_base
        try:
            self._container = av.open(str(path), mode="w", format="mp4")
        except OSError as exc:
            raise StorageError(reason("media.output_failed")) from exc
        try:
            stream: Any = self._container.add_stream(encoder, rate=fps)
            stream.width, stream.height = width, height
            stream.pix_fmt = self._pix_fmt
            stream.time_base = time_base
            ctx = stream.codec_context
            ctx.time_base = time_base
            ctx.colorspace, ctx.color_primaries = colour.space, colour.primaries
            ctx.color_trc, ctx.color_range = colour.trc, colour.range
            # The output's pixels are square (contract/sizing.py reaches the display size): say so, so
            # players never guess from an anamorphic source's tags.
            ctx.sample_aspect_ratio = Fraction(1, 1)
            ctx.options = _encoder_options(encoder, crf, preset, x265_params)
            ctx.open()
        except (av.FFmpegError, ValueError) as exc:
            self._container.close()
            raise TransientJobError(reason("media.encoder_unavailable", encoder=encoder)) from exc
        self._stream = stream
        self._reformatter = VideoReformatter()

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one frame (uint8, or uint16 when deep) shown at ``pts`` (in the source time base)."""
        # A view of the array, not a copy (0.4 ms a 704×576 frame): only the conversion below reads it.
        frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(rgb), format=self._in_format)
        yuv = self._reformatter.reformat(
            frame,
            format=self._pix_fmt,
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
