"""Input/output limits and subprocess timeouts of a job (no heavy imports, so the worker can use it)."""

from __future__ import annotations

from dataclasses import dataclass

from contract import limits, sizing


@dataclass(frozen=True)
class Limits:
    """Input and output limits and subprocess timeouts; the defaults are the contract's."""

    max_width: int = limits.MAX_WIDTH
    max_height: int = limits.MAX_HEIGHT
    max_duration_s: float = limits.MAX_DURATION_S
    #: The output box (either orientation), see contract.sizing.
    max_output: tuple[int, int] = sizing.OUTPUT_BOX
    probe_timeout_s: float = limits.PROBE_TIMEOUT_S
    mux_timeout_s: float = 1800
    #: Longest an inference call may run before the job gives up on it as stuck (transient).
    inference_timeout_s: float = limits.INFERENCE_TIMEOUT_S
    #: Region inference: longest run of frames (in seconds) between two full-frame refreshes.
    regions_refresh_s: float = 2.0
    #: Damaged input: the share of lost pictures (replaced by the last good one) past which a job fails.
    max_damaged_share: float = 0.2
