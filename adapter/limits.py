"""Input/output limits and subprocess timeouts of a job (no heavy imports, so the worker can use it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Input and output limits and subprocess timeouts."""

    max_width: int = 3840
    max_height: int = 2160
    max_duration_s: float = 7200
    max_output_pixels: int = 7680 * 4320
    probe_timeout_s: float = 30
    mux_timeout_s: float = 1800
