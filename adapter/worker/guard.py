"""Guarded runs: a job in a spawned child process, so a crashing decoder cannot take the worker down."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue as queue_mod
import signal
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Protocol

from adapter.errors import JobCancelled, JobError, PermanentJobError, ProcessCrashedError, TransientJobError
from adapter.video.stages import OnProgress, Result, ShouldStop
from contract.catalogue import Reason, reason


class GuardedTask(Protocol):
    """A picklable callable (module-level function, partial or dataclass) the child runs."""

    def __call__(self, *, on_progress: OnProgress, should_stop: ShouldStop) -> Result: ...


def run_guarded(
    task: GuardedTask,
    on_progress: OnProgress,
    should_stop: ShouldStop,
    kill_after_s: float = 10.0,
) -> Result:
    """Run ``task`` in a spawned child and return its result; a dying child becomes ProcessCrashedError.

    Progress items and the outcome come back pickled; the child is told to stop when ``should_stop``
    turns true and is abandoned (JobCancelled) if it has not stopped ``kill_after_s`` later.
    """
    ctx = multiprocessing.get_context("spawn")
    messages = ctx.Queue()
    stop = ctx.Event()
    child = ctx.Process(target=_child, args=(task, messages, stop, os.getpid()), daemon=True)
    child.start()
    stop_sent = float("inf")
    try:
        while True:
            if should_stop() and not stop.is_set():
                stop.set()
                stop_sent = time.monotonic()
            try:
                kind, payload = messages.get(timeout=0.2)
            except queue_mod.Empty:
                if time.monotonic() - stop_sent > kill_after_s:
                    raise JobCancelled("stopped") from None
                if not child.is_alive() and messages.empty():
                    raise ProcessCrashedError(crash_reason(child.exitcode)) from None
                continue
            if kind == "progress":
                on_progress(payload)
            elif kind == "ok":
                result: Result = payload
                return result
            else:
                raise payload
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
        messages.close()


def crash_reason(exitcode: int | None) -> Reason:
    """Why the job failed, as the way the child ended tells it."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return reason("job.crashed_signal", signal=name)
    return reason("job.crashed_exit", status=-1 if exitcode is None else exitcode)


def _child(task: GuardedTask, messages: Queue[tuple[str, object]], stop: Event, parent_pid: int) -> None:
    """Child entry: stop when told or when the worker is gone; report the outcome as one message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def should_stop() -> bool:
        return stop.is_set() or os.getppid() != parent_pid

    try:
        result = task(on_progress=lambda p: messages.put(("progress", p)), should_stop=should_stop)
        messages.put(("ok", result))
    except BaseException as exc:
        messages.put(("error", picklable(exc)))


def picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else one of the same family with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        if isinstance(exc, JobCancelled):
            return JobCancelled(str(exc))
        family = PermanentJobError if isinstance(exc, PermanentJobError) else TransientJobError
        if isinstance(exc, JobError):
            return family(exc.reason)
        return family(reason("job.internal_error", detail=f"{type(exc).__name__}: {exc}"))
