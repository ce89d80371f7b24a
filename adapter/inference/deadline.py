"""How long one model call may take, and whether a call that took too long is overload or a fault.

A fixed deadline fails a large frame on a slow CPU although nothing is wrong (640×272 ×4 on an AVX2-only
CPU: about 5 s a frame, so a batch of 8 behind another batch needs about 80 s). The deadline of a call
here grows with its pixels (frame size × batch) and the model's measured speed (``SpeedMeter``), never
below the configured floor (INFERENCE_TIMEOUT_S). Pure rules and a small thread-safe meter: no gRPC.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: Seconds per input megapixel assumed before a model's first answer: the default model on a slow
#: AVX2-only CPU (5.2 s for one 640×272 frame at ×4, measured in-process), so a first call on such a host
#: is not a timeout. Measured answers replace it at once.
PRIOR_S_PER_MPX = 30.0
#: How far beyond its expected time a call may run before it is given up (load comes and goes).
MARGIN = 3.0
#: No call waits longer than this, however slow the model was measured: a model that slow is stuck.
CEILING_S = 1800.0
#: Weight of the newest answer in the measured speed.
SMOOTHING = 0.3


@dataclass(frozen=True)
class DeadlineRule:
    """The deadline of a call: ``margin`` × its expected seconds, within [``floor_s``, ``ceiling_s``]."""

    floor_s: float
    ceiling_s: float = CEILING_S
    margin: float = MARGIN
    prior_s_per_mpx: float = PRIOR_S_PER_MPX

    def deadline_s(self, pixels: int, s_per_mpx: float | None, in_flight: int = 1) -> float:
        """Seconds a call of ``pixels`` input pixels may take, at the measured speed (None: not measured).

        Unmeasured, the call may also wait behind ``in_flight - 1`` others in the server's queue; a measured
        speed already includes that wait (it is timed from send to answer).
        """
        expected = pixels / 1e6 * (s_per_mpx if s_per_mpx is not None else self.prior_s_per_mpx)
        if s_per_mpx is None:
            expected *= max(1, in_flight)
        return min(max(self.floor_s, self.margin * expected), max(self.floor_s, self.ceiling_s))


class SpeedMeter:
    """The model's measured seconds per input megapixel of a call (send to answer), smoothed; thread-safe."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self._smoothing = smoothing
        self._lock = threading.Lock()
        self.s_per_mpx: float | None = None

    def answered(self, pixels: int, seconds: float) -> None:
        """A call of ``pixels`` was answered after ``seconds``."""
        if pixels <= 0:
            return
        sample = seconds / (pixels / 1e6)
        with self._lock:
            old = self.s_per_mpx
            self.s_per_mpx = sample if old is None else old + self._smoothing * (sample - old)

    def gave_up(self, pixels: int, seconds: float) -> None:
        """A call of ``pixels`` had no answer after ``seconds``: the model is at least that slow now."""
        if pixels <= 0:
            return
        at_least = seconds / (pixels / 1e6)
        with self._lock:
            self.s_per_mpx = max(self.s_per_mpx or 0.0, at_least)


class CallDeadlines:
    """A rule and a meter together: what an upscaler asks before each call and tells after it."""

    def __init__(self, rule: DeadlineRule, in_flight: int = 1, meter: SpeedMeter | None = None) -> None:
        self.rule, self.in_flight = rule, in_flight
        self.meter = meter or SpeedMeter()

    def deadline_s(self, pixels: int) -> float:
        """Seconds a call of ``pixels`` input pixels may take now."""
        return self.rule.deadline_s(pixels, self.meter.s_per_mpx, self.in_flight)


@runtime_checkable
class Deadlined(Protocol):
    """An upscaler whose calls have a deadline that depends on their size (``CallDeadlines``)."""

    deadlines: CallDeadlines


class Verdict(enum.Enum):
    """What a failed model call means for the job."""

    #: The server (or the model) is down: wait for it, no attempt used, the worker pauses.
    DOWN = "down"
    #: The server is up and ready but behind: wait and retry, no attempt used.
    OVERLOADED = "overloaded"
    #: The call itself failed with the server healthy: one of the job's attempts.
    FAILED = "failed"


#: gRPC statuses of a call that never reached a serving model (server down, restarting, unreachable).
UNAVAILABLE_STATUSES = frozenset({"StatusCode.UNAVAILABLE"})
#: gRPC status of a call the client gave up on at its deadline.
DEADLINE_STATUSES = frozenset({"StatusCode.DEADLINE_EXCEEDED"})
#: Triton's words for a request its queue policy dropped (waited past its timeout, or the queue was full):
#: the server is up and says it is behind.
QUEUE_REFUSALS = ("Request timeout expired", "Exceeds maximum queue size")


class Readiness(Protocol):
    """A short look at whether the model is served and ready (Triton's model readiness)."""

    def __call__(self) -> bool:
        """True when the model answers its readiness check; False (or an exception) when not."""
        ...


def judge_failure(status: str, message: str, ready: Readiness) -> Verdict:
    """Overload or fault: a call that timed out (or was dropped from the queue) while the model is ready
    is overload; one that failed while the model is not ready is an outage; anything else a fault."""
    if any(words in message for words in QUEUE_REFUSALS):
        return Verdict.OVERLOADED  # the server itself answered: it is up, only behind
    if status in UNAVAILABLE_STATUSES:
        return Verdict.DOWN
    try:
        healthy = bool(ready())
    except Exception:  # the look itself failed: as good as not ready
        healthy = False
    if not healthy:
        return Verdict.DOWN
    return Verdict.OVERLOADED if status in DEADLINE_STATUSES else Verdict.FAILED


class Lanes:
    """At most ``size`` calls at once, but one while the server is behind; answers in time widen it again.

    Calls sent to a server that is behind only queue behind each other (and behind work already given
    up on): fewer in flight lets each one finish within its deadline.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.open = self.size
        self._busy = 0
        self._cond = threading.Condition()

    def enter(self) -> None:
        """Wait for a free lane and take it."""
        with self._cond:
            self._cond.wait_for(lambda: self._busy < self.open)
            self._busy += 1

    def leave(self, *, in_time: bool) -> None:
        """Give the lane back; ``in_time``: the call was answered well within its deadline."""
        with self._cond:
            self._busy -= 1
            if in_time:
                self.open = min(self.size, self.open + 1)
            self._cond.notify_all()

    def behind(self) -> None:
        """The server fell behind: one call at a time until answers come in time again."""
        with self._cond:
            self.open = 1
