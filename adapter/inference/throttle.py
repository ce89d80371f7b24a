"""Test-only: an upscaler that costs at least a set time per frame, so tests see jobs running on any host.

End-to-end tests inject faults into a running job and watch its progress; on a fast GPU host an
unthrottled short clip is done before they can look. ``TEST_FRAME_DELAY_MS`` (adapter/settings.py) sets
the floor; 0, the default, leaves the upscaler untouched.

With the throttle on, it is also the chaos suite's stuck model (tests/chaos/test_stuck.py): while the file
``block_flag(STORAGE_ROOT)`` exists, every model call blocks, as a hung inference would, until it is removed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adapter.inference.base import Upscaler, UpscalerFactory

#: Name of the test-only "model is stuck" switch, a file at the top of the storage root.
BLOCK_FLAG_NAME = ".test-block-inference"
#: Seconds between two looks at the switch while blocked.
BLOCK_POLL_S = 0.1


def block_flag(storage_root: Path) -> Path:
    """Where the test-only switch that blocks every model call lies for a storage root."""
    return storage_root / BLOCK_FLAG_NAME



class ThrottledUpscaler:
    """Forwards to ``inner``, but no faster than one frame per ``frame_delay_s`` over all threads.

    While ``blocked_by`` exists, calls wait (outside the lock, each on its own) instead of answering.
    """

    def __init__(self, inner: Upscaler, frame_delay_s: float, blocked_by: Path | None = None) -> None:
        self.inner = inner
        self.frame_delay_s = frame_delay_s
        self.blocked_by = blocked_by
        self.scale, self.max_batch, self.in_flight = inner.scale, inner.max_batch, inner.in_flight
        self.device = inner.device
        # One lock for every caller: the floor holds however many requests the pipeline keeps in flight.
        self._lock = threading.Lock()

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Wait ``frame_delay_s`` per frame of ``batch`` (in turn with other callers), then upscale."""
        while self.blocked_by is not None and self.blocked_by.exists():
            time.sleep(BLOCK_POLL_S)
        with self._lock:
            time.sleep(self.frame_delay_s * len(batch))
        return self.inner.infer(batch)

    def close(self) -> None:
        """Close the wrapped upscaler."""
        self.inner.close()


@dataclass(frozen=True)
class Throttled:
    """``make_upscaler`` wrapped in ``ThrottledUpscaler`` when ``frame_delay_ms`` > 0; picklable.

    ``blocked_by``: the stuck-model switch (``block_flag``), only ever looked at with the throttle on.
    """

    make_upscaler: UpscalerFactory
    frame_delay_ms: float
    blocked_by: Path | None = None

    def __call__(self, model: str) -> Upscaler:
        upscaler = self.make_upscaler(model)
        if self.frame_delay_ms <= 0:
            return upscaler
        return ThrottledUpscaler(upscaler, self.frame_delay_ms / 1000, self.blocked_by)
