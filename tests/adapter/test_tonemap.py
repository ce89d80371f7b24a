"""HDR to SDR on request: a bright PQ and HLG ramp ends BT.709 8-bit with its mid-tones unclipped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from adapter.limits import Limits
from adapter.video.pipeline import run
from adapter.video.tonemap import REFERENCE_WHITE, hlg_to_nits, pq_to_nits, roll_off, tone_map
from contract.messages import JobOptions

#: Where BT.2408 puts reference white (203 cd/m²) in each transfer's code values.
REFERENCE_CODE = {"smpte2084": 0.58, "arib-std-b67": 0.75}


class Doubler:
    """A cheap stand-in for the model (tone mapping happens before it): nearest-neighbour ×2."""

    scale, max_batch, in_flight, device = 2, 4, 1, "cpu"

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return batch.repeat(2, axis=1).repeat(2, axis=2)

    def close(self) -> None:
        return None


def _ramp(path: Path, transfer: str) -> Path:
    """A 10-bit BT.2020 luma ramp from black to the transfer's top code value, 256 px wide, HEVC."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi"),
            *(
                "-i",
                "color=c=black:s=256x64:r=25:d=0.2,format=yuv420p10le,geq=lum='64+X*876/255':cb=512:cr=512",
            ),
            *("-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le"),
            *("-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", str(path)),
        ],
        check=True,
        timeout=120,
    )
    return path


def _tags(path: Path) -> dict[str, str]:
    done = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json", "-show_entries"),
            *("stream=pix_fmt,color_transfer,color_primaries,color_space", str(path)),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    stream: dict[str, str] = json.loads(done.stdout)["streams"][0]
    return stream


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_a_bright_ramp_ends_bt709_with_mid_tones_unclipped(transfer: str, tmp_path: Path) -> None:
    source = _ramp(tmp_path / f"{transfer}.mp4", transfer)
    out = tmp_path / "sdr.mp4"
    result = run(source, out, JobOptions(hdr="sdr", scale=2), Doubler(), limits=Limits())
    assert _tags(out) == {
        "pix_fmt": "yuv420p",
        "color_space": "bt709",
        "color_transfer": "bt709",
        "color_primaries": "bt709",
    }
    assert "note.tone_mapped" in [note.code for note in result.notes]
    with av.open(str(out)) as opened:
        picture = next(opened.decode(video=0))
        plane = picture.planes[0]
        luma = np.frombuffer(bytes(plane), np.uint8).reshape(-1, plane.line_size)[:, : picture.width]
    row = luma[64, ::8].astype(int)  # every 4th source column
    assert (np.diff(row) >= -1).all()  # the ramp stays a ramp (x264 rounds by a level)
    white = round(REFERENCE_CODE[transfer] * 64)  # the sample where reference white sits
    mids = row[8:white]
    # Below reference white every step is a new level and nothing reaches the top: no clipped mid-tones.
    assert (np.diff(mids) > 0).all() and mids.max() < 230
    assert 180 < row[white] < 235  # reference white is bright, and still below peak white
    assert row[-1] >= 230  # the highlights roll off towards peak white


def test_the_curve_keeps_mid_tones_and_rolls_highlights_off() -> None:
    luma = np.array([0.0, 0.18, 0.5, 0.75, 1.0, 4.0, 1000 / REFERENCE_WHITE], np.float32)
    mapped = roll_off(luma, 1000 / REFERENCE_WHITE)
    assert np.allclose(mapped[:4], luma[:4])  # identity below the knee
    assert 0.75 < mapped[4] < mapped[5] < mapped[6] == pytest.approx(1.0, abs=1e-6)


def test_transfers_reach_their_reference_white() -> None:
    assert float(pq_to_nits(np.array([0.58], np.float32))[0]) == pytest.approx(203, rel=0.02)
    grey = np.full((1, 1, 3), 0.75, np.float32)
    assert float(hlg_to_nits(grey)[0, 0, 0]) == pytest.approx(203, rel=0.02)
    # A PQ picture at reference white becomes a bright but unclipped SDR white.
    white = np.full((2, 2, 3), round(0.58 * 65535), np.uint16)
    assert 220 <= int(tone_map(white, "smpte2084")[0, 0, 0]) < 255
