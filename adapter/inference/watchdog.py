"""Model calls on daemon threads (``ModelPool``) and a deadline for in-process ones (``Watchdog``)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from adapter.errors import InferenceStuckError
from adapter.inference.deadline import CallDeadlines, DeadlineRule
from contract.catalogue import reason

if TYPE_CHECKING:
    from adapter.inference.base import Upscaler

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]


class ModelPool:
    """``size`` daemon threads running the model, all started before the first frame is decoded.

    Threads start up front (a pool that starts threads lazily starts them from the decode thread,
    which then waits for each to come up), and are daemons, so a call stuck in the model never keeps
    the process from exiting once the run has given up on it.
    """

    def __init__(self, upscaler: Upscaler, size: int, name: str = "infer") -> None:
        self._upscaler, self._name = upscaler, name
        self._calls: queue.SimpleQueue[tuple[Image, Future[Image]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        for _ in range(size):
            self.add_thread()

    def add_thread(self) -> None:
        """Start one more model thread (in place of one stuck in the model)."""
        thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            batch, future = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._upscaler.infer(batch))
            except BaseException as exc:  # handed to whoever waits for the answer
                future.set_exception(exc)

    def submit(self, batch: Image) -> Future[Image]:
        """Queue one model call (never blocks)."""
        future: Future[Image] = Future()
        self._calls.put((batch, future))
        return future

    def shutdown(self, join_s: float = 0.0) -> None:
        """Let idle threads end, waiting up to ``join_s`` each; one stuck in the model is left (a daemon)."""
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads if join_s > 0 else ():
            thread.join(timeout=join_s)


#: Longest wait for one idle watchdog thread to end when the upscaler closes.
WATCHDOG_JOIN_S = 5.0


class Watchdog:
    """Gives ``inner`` (an in-process model, which has no timeout of its own) a deadline per call.

    Calls run on the watchdog's own daemon threads; a caller waits the call's deadline at most (``timeout_s``,
    or more for a large batch on a model measured slow: ``adapter.inference.deadline``), then the call is
    abandoned (its thread may never come back, so a fresh one takes its place) and ``InferenceStuckError``
    is raised: the job is retried and the process can still exit.
    """

    def __init__(self, inner: Upscaler, timeout_s: float) -> None:
        self.inner, self.timeout_s = inner, timeout_s
        self.scale, self.max_batch, self.in_flight = inner.scale, inner.max_batch, inner.in_flight
        self.device = inner.device
        self.abandoned = 0
        # In-process calls run side by side on their own streams, not queued behind each other as in a
        # server: before the first answer, one call's prior time is all a call needs.
        self.deadlines = CallDeadlines(DeadlineRule(floor_s=timeout_s), in_flight=1)
        self._pool = ModelPool(inner, self.in_flight, name="infer-watched")

    def infer(self, batch: Image) -> Image:
        """``inner.infer(batch)``, or InferenceStuckError once it has run past its deadline."""
        pixels = int(batch.shape[0] * batch.shape[1] * batch.shape[2]) if batch.ndim == 4 else 0
        deadline = self.deadlines.deadline_s(pixels)
        started = time.monotonic()
        future = self._pool.submit(batch)
        try:
            out = future.result(timeout=deadline)
        except TimeoutError:
            if not future.cancel():  # it was running: that thread is stuck, start another
                self.abandoned += 1
                self._pool.add_thread()
            log.error("inference call abandoned after %.0f s", deadline)
            raise InferenceStuckError(reason("job.stuck")) from None
        self.deadlines.meter.answered(pixels, time.monotonic() - started)
        return out

    def close(self) -> None:
        """Stop the idle threads (their OpenVINO requests go with them), then close the model."""
        # Requests left to die with the interpreter once aborted a finished run ("terminate called
        # without an active exception"); a stuck thread is still not waited for beyond the timeout.
        self._pool.shutdown(join_s=min(self.timeout_s, WATCHDOG_JOIN_S))
        self.inner.close()
