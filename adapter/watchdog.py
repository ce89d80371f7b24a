"""A deadline for in-process inference: a stuck model call is abandoned, not waited for forever."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from adapter.errors import InferenceStuckError
from contract.catalogue import reason

if TYPE_CHECKING:
    from adapter.inference import Upscaler

log = logging.getLogger(__name__)

#: Longest wait for one idle watchdog thread to end when the upscaler closes.
WATCHDOG_JOIN_S = 5.0


class Watchdog:
    """Gives ``inner`` (an in-process model, which has no timeout of its own) a deadline per call.

    Calls run on the watchdog's own daemon threads; a caller waits ``timeout_s`` at most, then the call
    is abandoned (its thread may never come back, so a fresh one takes its place) and
    ``InferenceStuckError`` is raised: the job is retried and the process can still exit.
    """

    def __init__(self, inner: Upscaler, timeout_s: float) -> None:
        self.inner, self.timeout_s = inner, timeout_s
        self.scale, self.max_batch, self.in_flight = inner.scale, inner.max_batch, inner.in_flight
        self.device = inner.device
        self.abandoned = 0
        self._calls: queue.SimpleQueue[tuple[npt.NDArray[np.uint8], Future[npt.NDArray[np.uint8]]] | None]
        self._calls = queue.SimpleQueue()
        self._threads = [self._start() for _ in range(self.in_flight)]

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._work, name="infer-watched", daemon=True)
        thread.start()
        return thread

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            batch, future = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self.inner.infer(batch))
            except BaseException as exc:  # raised again in the caller's thread
                future.set_exception(exc)

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """``inner.infer(batch)``, or InferenceStuckError once it has run ``timeout_s``."""
        future: Future[npt.NDArray[np.uint8]] = Future()
        self._calls.put((batch, future))
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            if not future.cancel():  # it was running: that thread is stuck, start another
                self.abandoned += 1
                self._threads.append(self._start())
            log.error("inference call abandoned after %.0f s", self.timeout_s)
            raise InferenceStuckError(reason("job.stuck")) from None

    def close(self) -> None:
        """Stop the idle threads (their OpenVINO requests go with them), then close the model."""
        for _ in self._threads:
            self._calls.put(None)
        # Requests left to die with the interpreter once aborted a finished run ("terminate called
        # without an active exception"); a stuck thread is still not waited for beyond the timeout.
        for thread in self._threads:
            thread.join(timeout=min(self.timeout_s, WATCHDOG_JOIN_S))
        self.inner.close()
