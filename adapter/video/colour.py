"""Colour of a video stream: AV* enum values used for RGB↔YUV conversion and for the output's tags."""

from __future__ import annotations

from dataclasses import dataclass

import av

# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange values.
UNSPECIFIED = 2
SPC_BT709, SPC_BT470BG, SPC_SMPTE170M = 1, 5, 6
RANGE_MPEG, RANGE_JPEG = 1, 2
# AVColorSpace -> swscale matrix (SWS_CS_*); unknown matrices fall back to BT.601 like ffmpeg does.
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}

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
