"""Job-level glue of the restoration strength: the input's bits per pixel and the note for strength=auto."""

from __future__ import annotations

from pathlib import Path

from adapter.degradation import Degradation
from contract.catalogue import Reason, reason
from contract.probe import MediaInfo


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
