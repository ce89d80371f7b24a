"""One AMQP connector: connection parameters, the reconnect errors, and jittered reconnect backoff.

The backend's outbox publisher and events consumer and every adapter worker connect and reconnect
through this module. The backoff uses full jitter, so adapters that lost the broker at the same
moment (a broker restart) do not all come back in lock-step.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from typing import Protocol

import pika
import pika.exceptions

log = logging.getLogger(__name__)

#: Seconds between AMQP heartbeats: a dead peer is noticed after about two of them.
HEARTBEAT_S = 30
#: TCP connect / socket read limit, so an unreachable broker fails fast instead of hanging a thread.
SOCKET_TIMEOUT_S = 5.0
#: Limit for the whole connection handshake (TCP + AMQP open).
STACK_TIMEOUT_S = 10.0
#: Seconds the broker may block a connection (memory or disk alarm) before we drop it and reconnect;
#: long enough that a running adapter job is not thrown away for a short alarm.
BLOCKED_TIMEOUT_S = 60.0
#: Reconnect backoff bounds: the n-th wait is uniform in [0, min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2**n)].
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 15.0
#: Exponent cap so 2**attempt never overflows a float after days of outage.
_MAX_EXPONENT = 32

#: Errors that mean "the broker connection is gone; reconnect" (ConnectionError is an OSError).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)


def parameters(url: str, *, name: str, heartbeat_s: int = HEARTBEAT_S) -> pika.URLParameters:
    """Connection parameters for ``url``; ``name`` shows in the broker's connection list."""
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat_s
    params.socket_timeout = SOCKET_TIMEOUT_S
    params.stack_timeout = STACK_TIMEOUT_S
    params.blocked_connection_timeout = BLOCKED_TIMEOUT_S
    # One try per connect(): the caller's Backoff decides when to try again, with jitter.
    params.connection_attempts = 1
    params.client_properties = {"connection_name": name}
    return params


def connect(url: str, *, name: str, heartbeat_s: int = HEARTBEAT_S) -> pika.BlockingConnection:
    """Open a blocking connection with the shared parameters (raises one of CONNECTION_ERRORS)."""
    return pika.BlockingConnection(parameters(url, name=name, heartbeat_s=heartbeat_s))


def close_quietly(connection: pika.BlockingConnection | None) -> None:
    """Close ``connection`` if it is open, ignoring errors from one already gone."""
    if connection is not None and connection.is_open:
        with contextlib.suppress(*CONNECTION_ERRORS):
            connection.close()


class Uniform(Protocol):
    """Random source of the jitter (``random.Random``; a fixed one in tests)."""

    def uniform(self, a: float, b: float) -> float: ...


class Backoff:
    """Exponential backoff with full jitter, like dramatiq's ``compute_backoff`` but in seconds."""

    def __init__(
        self,
        min_s: float = RECONNECT_MIN_S,
        max_s: float = RECONNECT_MAX_S,
        *,
        rng: Uniform | None = None,
    ) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff bounds must satisfy 0 < min_s <= max_s, got {min_s}, {max_s}")
        self.min_s = min_s
        self.max_s = max_s
        self.attempt = 0
        # A private generator: seeding the global one elsewhere must not line the services up again.
        self._rng: Uniform = rng if rng is not None else random.Random()

    def ceiling(self) -> float:
        """Upper bound of the next delay: ``min_s`` doubled per failed attempt, capped at ``max_s``."""
        return min(self.max_s, self.min_s * 2.0 ** min(self.attempt, _MAX_EXPONENT))

    def next_delay(self) -> float:
        """The next wait in seconds, uniform in [0, ceiling()]; counts one more attempt."""
        delay = self._rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start over from ``min_s`` (call once connected)."""
        self.attempt = 0


class Stop(Protocol):
    """The stop flag of a connection loop (``threading.Event``)."""

    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def wait_before_reconnect(backoff: Backoff, stop: Stop, name: str) -> float:
    """Log the jittered delay (``reconnecting in 1.30s``) and wait it out or until stopped."""
    attempt = backoff.attempt
    delay = backoff.next_delay()
    log.info(
        "reconnecting in %.2fs",
        delay,
        extra={"connection": name, "attempt": attempt, "delay_s": round(delay, 4)},
    )
    stop.wait(delay)
    return delay


def run_sessions(
    session: Callable[[], None],
    *,
    name: str,
    backoff: Backoff,
    stop: Stop,
    on_lost: Callable[[BaseException], None] | None = None,
) -> None:
    """Run ``session`` again and again until ``stop`` is set, waiting a jittered backoff in between.

    The session connects, calls ``backoff.reset()`` once it is serving, and returns when stopped (or
    to be restarted); any exception ends it, is logged and passed to ``on_lost`` before the wait.
    """
    while not stop.is_set():
        try:
            session()
        except Exception as exc:
            if isinstance(exc, CONNECTION_ERRORS):
                log.warning("broker connection lost: %r", exc, extra={"connection": name})
            else:
                log.exception("broker session failed", extra={"connection": name})
            if on_lost is not None:
                on_lost(exc)
        if not stop.is_set():
            wait_before_reconnect(backoff, stop, name)
