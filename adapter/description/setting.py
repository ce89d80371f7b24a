"""A setting phrase from cheap colour cues that can be justified, and nothing else.

No scene classifier ships in a package the project may use, so only three facts are stated, each
from a measurement a sighted viewer would agree with: the picture is dark (mean luma), the top of the
frame is sky (smooth, saturated blue over most of the top quarter), the frame is full of greenery
(textured, saturated green over a third of it). Anything else is left unsaid.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Lang = Literal["ru", "en"]
Cue = Literal["dark", "sky", "greenery"]
#: Mean luma (0..255) below which the picture is dark.
DARK_LUMA = 45
#: Share of the top quarter that must be smooth blue to call it sky.
SKY_SHARE = 0.5
#: Share of the frame that must be textured green to call it greenery.
GREEN_SHARE = 0.33
#: Frames are measured at this width (the cues are about large areas).
WIDTH = 160


def cues(frame: np.ndarray) -> frozenset[Cue]:
    """Which of dark / sky / greenery the RGB frame shows."""
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (WIDTH, max(1, round(height * WIDTH / width))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)  # hue 0..180
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    texture = np.abs(cv2.Laplacian(gray, cv2.CV_32F))
    found: set[Cue] = set()
    if gray.mean() < DARK_LUMA:
        return frozenset({"dark"})
    top = slice(0, max(1, small.shape[0] // 4))
    blue = (hue[top] >= 95) & (hue[top] <= 130) & (sat[top] > 50) & (val[top] > 110) & (texture[top] < 12)
    if blue.mean() >= SKY_SHARE:
        found.add("sky")
    green = (hue >= 35) & (hue <= 85) & (sat > 60) & (val > 40) & (texture >= 8)
    if green.mean() >= GREEN_SHARE:
        found.add("greenery")
    return frozenset(found)


def setting_sentence(found: frozenset[Cue], lang: Lang) -> str | None:
    """ "Темно." / "Outdoors: sky and greenery." — or None when no cue holds."""
    if "dark" in found:
        return "Темно." if lang == "ru" else "It is dark."
    if {"sky", "greenery"} <= found:
        return "На улице: небо и зелень." if lang == "ru" else "Outdoors: sky and greenery."
    if "sky" in found:
        return "На улице, видно небо." if lang == "ru" else "Outdoors, the sky is visible."
    if "greenery" in found:
        return "Много зелени." if lang == "ru" else "Lots of greenery."
    return None
