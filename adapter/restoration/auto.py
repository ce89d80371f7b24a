"""Job-level glue of strength=auto: the input's bits per pixel, Real-CUGAN's denoise level, the job notes."""

from __future__ import annotations

import itertools
from pathlib import Path

from adapter.restoration.degradation import Degradation, estimate
from contract.catalogue import Reason, reason
from contract.mediainfo import MediaInfo


def bits_per_pixel(source: Path, info: MediaInfo) -> float | None:
    """File bits per decoded pixel (audio included: an upper bound for the video's own rate)."""
    pixels = info.frames * info.frame_width * info.frame_height
    try:
        size = source.stat().st_size
    except OSError:
        return None
    return 8.0 * size / pixels if pixels > 0 else None


def auto_strength_note(degradation: Degradation) -> Reason:
    """The job note that says which strength ``auto`` chose, and from how much degradation."""
    return reason(
        "note.strength_auto", strength=degradation.strength, degradation=round(degradation.score, 2)
    )


def denoise_for(score: float, levels: tuple[int, ...]) -> int:
    """Real-CUGAN's denoise level for a degradation score: conservative when clean, strongest when bad."""
    if score < 0.35:
        return -1 if -1 in levels else min(levels)
    if score < 0.7:
        return min((level for level in levels if level >= 1), default=max(levels))
    return max(levels)


def auto_denoise(source: Path, info: MediaInfo, levels: tuple[int, ...], start_pts: int | None) -> int:
    """strength=auto with denoise levels: estimate on two frames from ``start_pts``, pick a level."""
    from adapter.video.decode import Decoder  # PyAV only when a job needs it

    decoder = Decoder(source, info)
    try:
        frames = list(itertools.islice((rgb for rgb, _ in decoder.frames(start_pts)), 2))
    finally:
        decoder.close()
    return denoise_for(estimate(frames, bits_per_pixel(source, info)).score, levels) if frames else levels[0]


def auto_denoise_note(level: int) -> Reason:
    """The job note that says which denoise level ``auto`` chose."""
    return reason("note.denoise_auto", level=level)
