"""HDR to SDR on request (``hdr=sdr``): PQ and HLG pictures tone-mapped to BT.709 8-bit.

The decoder hands out the HDR pictures as 16-bit RGB (BT.2020 primaries, PQ or HLG coded); each one goes:

1. **To light.** PQ: the SMPTE ST 2084 EOTF (absolute cd/m²). HLG: the ARIB STD-B67 inverse OETF, then
   BT.2100's OOTF for a 1000 cd/m² display (system gamma 1.2, on the luminance).
2. **To SDR's scale.** BT.2408's HDR reference white, 203 cd/m², becomes SDR's 100 % (diffuse white,
   skin and mid-tones keep their place).
3. **Gamut.** BT.2020 → BT.709 primaries (BT.2087's matrix on linear light); what falls outside is clipped.
4. **Tone curve, on the luminance** (the colour scaled with it, so hues do not shift): identity up to a
   knee at 75 % of reference white, above it an extended Reinhard curve that brings the peak (the
   mastering display's maximum, else 1000 cd/m²) to exactly 100 %. Mid-tones are left where they are,
   and highlights are compressed instead of clipped. This is BT.2390's EETF idea (linear below a knee,
   a smooth roll-off above) with a Reinhard shoulder in place of its Hermite spline.
5. **To code values.** BT.709's OETF, 8-bit, tagged BT.709 (primaries, transfer, matrix; limited range).

zscale + tonemap in a filter graph would do similar work, but PyAV's bundled ffmpeg has no zscale
(zimg), and a filter graph between decoder and model is what the deinterlacer already costs; this
runs in numpy on the decoded picture and is measured by ``tests/adapter/test_tonemap.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from adapter.video.colour import RANGE_MPEG, SPC_BT709, Colour
from adapter.video.damage import Damage
from adapter.video.decode import Pictures, SourceStream

#: BT.709 tags of the tone-mapped output.
BT709 = Colour(SPC_BT709, 1, 1, RANGE_MPEG)
#: BT.2408: HDR reference (diffuse) white, the level SDR's 100 % stands for.
REFERENCE_WHITE = 203.0
#: Assumed peak of content without mastering metadata, and HLG's nominal display peak (cd/m²).
DEFAULT_PEAK = 1000.0
#: Share of reference white below which the tone curve is the identity.
KNEE = 0.75
#: BT.2087: linear BT.2020 RGB → linear BT.709 RGB.
BT2020_TO_BT709 = np.array(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ],
    dtype=np.float32,
)
#: Luminance weights of BT.2020 and BT.709 linear RGB.
Y2020 = np.array([0.2627, 0.6780, 0.0593], dtype=np.float32)
Y709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

Floats = npt.NDArray[np.float32]


def pq_to_nits(code: Floats) -> Floats:
    """SMPTE ST 2084 EOTF: PQ code values 0..1 → luminance in cd/m²."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    power = np.power(np.clip(code, 0, 1), 1 / m2)
    return np.asarray(10000 * np.power(np.maximum(power - c1, 0) / (c2 - c3 * power), 1 / m1), np.float32)


def hlg_to_nits(code: Floats, peak: float = DEFAULT_PEAK) -> Floats:
    """ARIB STD-B67 inverse OETF, then BT.2100's OOTF (gamma 1.2 at 1000 cd/m²): code 0..1 → cd/m²."""
    a, b = 0.17883277, 0.28466892
    c = 0.5 - a * np.log(4 * a)
    code = np.clip(code, 0, 1)
    scene = np.where(code <= 0.5, code * code / 3, (np.exp((code - c) / a) + b) / 12).astype(np.float32)
    gamma = 1.2 + 0.42 * np.log10(peak / 1000)
    luma = np.maximum(scene @ Y2020, 1e-6)[..., None]
    return np.asarray(peak * np.power(luma, gamma - 1) * scene, np.float32)


def roll_off(luma: Floats, peak: float) -> Floats:
    """Identity below the knee; above it, extended Reinhard that reaches 1.0 exactly at ``peak``."""
    if peak <= 1.0:
        return np.minimum(luma, 1.0)
    x = np.maximum(luma - KNEE, 0) / (1 - KNEE)
    white = (peak - KNEE) / (1 - KNEE)
    shoulder = KNEE + (1 - KNEE) * x * (1 + x / (white * white)) / (1 + x)
    return np.where(luma <= KNEE, luma, np.minimum(shoulder, 1.0)).astype(np.float32)


def bt709_oetf(light: Floats) -> Floats:
    """BT.709's OETF: linear 0..1 → code values 0..1."""
    light = np.clip(light, 0, 1)
    return np.where(light < 0.018, 4.5 * light, 1.099 * np.power(light, 0.45) - 0.099).astype(np.float32)


def tone_map(
    rgb48: npt.NDArray[np.uint16], transfer: str, peak: float = DEFAULT_PEAK
) -> npt.NDArray[np.uint8]:
    """A 16-bit PQ or HLG BT.2020 picture as an 8-bit BT.709 SDR one (the module's five steps)."""
    code = rgb48.astype(np.float32) / 65535
    nits = pq_to_nits(code) if transfer == "smpte2084" else hlg_to_nits(code, peak)
    linear = (nits / REFERENCE_WHITE) @ BT2020_TO_BT709.T
    linear = np.maximum(linear, 0)
    luma = linear @ Y709
    mapped = roll_off(luma, peak / REFERENCE_WHITE)
    scale = np.where(luma > 1e-6, mapped / np.maximum(luma, 1e-6), 1.0)[..., None]
    return np.asarray(np.round(bt709_oetf(linear * scale) * 255), np.uint8)


class ToneMapped:
    """An HDR decoder's pictures, tone-mapped to SDR: the ``Pictures`` the stages read."""

    def __init__(self, decoder: Pictures, transfer: str, peak: float | None = None) -> None:
        self._decoder, self._transfer = decoder, transfer
        self._peak = peak if peak and peak > REFERENCE_WHITE else DEFAULT_PEAK
        self.colour: Colour | None = BT709

    def frames(
        self, start_pts: int | None = None, end_pts: int | None = None
    ) -> Iterator[tuple[np.ndarray, int]]:
        """The decoder's pictures as 8-bit BT.709 SDR."""
        for picture, pts in self._decoder.frames(start_pts, end_pts):
            yield tone_map(picture, self._transfer, self._peak), pts

    # What the stages read of the decoder itself.
    @property
    def time_base(self) -> Fraction:
        """The decoder's time base."""
        return self._decoder.time_base

    @property
    def fps(self) -> Fraction:
        """The decoder's frame rate."""
        return self._decoder.fps

    @property
    def resized(self) -> bool:
        """Whether the decoder fitted some frames into the first size."""
        return self._decoder.resized

    @property
    def flattened(self) -> bool:
        """Whether the decoder flattened an alpha channel."""
        return self._decoder.flattened

    @property
    def key(self) -> bool:
        """Whether the last picture was a keyframe."""
        return self._decoder.key

    @property
    def others(self) -> list[SourceStream]:
        """The source's other streams."""
        return self._decoder.others

    @property
    def damage(self) -> Damage:
        """What the decoder met of damage."""
        return self._decoder.damage

    def close(self) -> None:
        """Close the decoder."""
        self._decoder.close()
