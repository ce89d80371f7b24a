"""HDR side data of a video (mastering display, content light level) as x265 wants it back.

Read from the first decoded frame with ffprobe (through the runner, allow-lists and a time limit); the
values are ffprobe's exact fractions, turned into x265's units (chromaticity in 0.00002, luminance in
0.0001 cd/m²), so a re-encode carries the same SEI the phone wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from contract import media
from contract.media import UserInput

#: Transfer characteristics (ffprobe names) that make a video HDR.
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})


@dataclass(frozen=True)
class HdrMetadata:
    """x265's ``master-display`` and ``max-cll`` values (None when the source has none)."""

    master_display: str | None = None
    max_cll: str | None = None

    def x265_params(self) -> list[str]:
        """``key=value`` items for ``x265-params``."""
        items = []
        if self.master_display:
            items.append(f"master-display={self.master_display}")
        if self.max_cll:
            items.append(f"max-cll={self.max_cll}")
        return items

    def peak_nits(self) -> float | None:
        """The brightest the content gets (cd/m²): its MaxCLL, else the mastering display's maximum."""
        if self.max_cll and self.max_cll.split(",")[0].isdigit() and int(self.max_cll.split(",")[0]) > 0:
            return float(self.max_cll.split(",")[0])
        if self.master_display and "L(" in self.master_display:
            return int(self.master_display.split("L(")[1].split(",")[0]) / 10000
        return None


def _units(value: Any, scale: int) -> int:
    return round(Fraction(str(value)) * scale)


def _master_display(side: dict[str, Any]) -> str:
    point = {name: (_units(side[f"{name}_x"], 50000), _units(side[f"{name}_y"], 50000)) for name in
             ("green", "blue", "red", "white_point")}  # fmt: skip
    lum = (_units(side["max_luminance"], 10000), _units(side["min_luminance"], 10000))
    g, b, r, wp = point["green"], point["blue"], point["red"], point["white_point"]
    return f"G({g[0]},{g[1]})B({b[0]},{b[1]})R({r[0]},{r[1]})WP({wp[0]},{wp[1]})L({lum[0]},{lum[1]})"


def parse(frames: dict[str, Any]) -> HdrMetadata:
    """HDR metadata from ffprobe's ``-show_frames`` JSON of the first frame."""
    master = cll = None
    for frame in frames.get("frames") or []:
        for side in frame.get("side_data_list") or []:
            kind = side.get("side_data_type", "")
            try:
                if kind == "Mastering display metadata":
                    master = _master_display(side)
                elif kind == "Content light level metadata":
                    cll = f"{int(side['max_content'])},{int(side['max_average'])}"
            except (KeyError, ValueError, ZeroDivisionError):
                continue  # a malformed entry is dropped, never a failed job
    return HdrMetadata(master, cll)


def read(path: Path, *, timeout_s: float) -> HdrMetadata:
    """The first frame's HDR metadata (empty when ffprobe finds none or cannot read it)."""
    args = ["ffprobe", "-v", "error", "-hide_banner", "-print_format", "json", "-select_streams", "v:0",
            "-read_intervals", "%+#1", "-show_frames", "-show_entries", "frame=side_data_list"]  # fmt: skip
    try:
        done = media.run([*args, UserInput(path)], timeout_s=timeout_s)
        return parse(json.loads(done.stdout))
    except (media.MediaFailed, json.JSONDecodeError):
        return HdrMetadata()
