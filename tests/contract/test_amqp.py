"""contract.amqp: connection parameters, the jittered backoff and the reconnect loop (no broker)."""

from __future__ import annotations

import logging
import random
import threading

import pika.exceptions
import pytest

from contract import amqp


class Top:
    """A random source that always returns the top of the range (the backoff's ceiling)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return b


def test_parameters_are_the_one_definition() -> None:
    params = amqp.parameters("amqp://u:p@broker:5673/v%2Fh", name="vsr-test", heartbeat_s=7)
    assert (params.host, params.port, params.virtual_host) == ("broker", 5673, "v/h")
    assert params.heartbeat == 7
    assert params.socket_timeout == amqp.SOCKET_TIMEOUT_S
    assert params.stack_timeout == amqp.STACK_TIMEOUT_S
    assert params.blocked_connection_timeout == amqp.BLOCKED_TIMEOUT_S
    assert params.connection_attempts == 1
    assert params.client_properties == {"connection_name": "vsr-test"}
    assert amqp.parameters("amqp://broker/", name="x").heartbeat == amqp.HEARTBEAT_S


def test_connection_errors_cover_broker_and_socket_failures() -> None:
    for exc in (pika.exceptions.AMQPConnectionError(), pika.exceptions.ChannelClosedByBroker(406, "x"),
                ConnectionResetError(), TimeoutError()):
        assert isinstance(exc, amqp.CONNECTION_ERRORS), exc
    assert not isinstance(ValueError(), amqp.CONNECTION_ERRORS)


def test_backoff_doubles_from_min_up_to_the_cap() -> None:
    rng = Top()
    backoff = amqp.Backoff(0.5, 5.0, rng=rng)
    delays = [backoff.next_delay() for _ in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert all(a == 0.0 for a, _ in rng.ranges), "full jitter draws from zero"


def test_backoff_is_full_jitter_within_zero_and_the_ceiling() -> None:
    backoff = amqp.Backoff(1.0, 8.0, rng=random.Random(1))
    for attempt in range(6):
        ceiling = min(8.0, 2.0**attempt)
        samples = []
        for _ in range(400):
            backoff.attempt = attempt
            samples.append(backoff.next_delay())
        assert all(0.0 <= s <= ceiling for s in samples)
        # Spread over the whole range, not clustered near the ceiling (as "equal jitter" would be).
        assert min(samples) < 0.05 * ceiling and max(samples) > 0.95 * ceiling, (attempt, samples[:5])


def test_backoffs_of_separate_processes_are_not_in_lock_step() -> None:
    first = [amqp.Backoff(0.5, 15.0).next_delay() for _ in range(4)]
    assert len(set(first)) == 4, first


def test_reset_starts_again_from_min() -> None:
    backoff = amqp.Backoff(0.5, 15.0, rng=Top())
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.attempt == 0 and backoff.next_delay() == 0.5


def test_backoff_survives_a_very_long_outage() -> None:
    backoff = amqp.Backoff(0.5, 15.0, rng=Top())
    backoff.attempt = 10_000
    assert backoff.next_delay() == 15.0


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_backoff_rejects_bad_bounds(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="min_s"):
        amqp.Backoff(low, high)


class Clock:
    """A stop flag whose waits are recorded instead of slept."""

    def __init__(self, stop_after: int) -> None:
        self.waits: list[float | None] = []
        self._stop_after = stop_after
        self._event = threading.Event()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if len(self.waits) >= self._stop_after:
            self._event.set()
        return self._event.is_set()


def test_run_sessions_logs_each_delay_resets_when_connected_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = amqp.Backoff(0.5, 4.0, rng=Top())
    stop = Clock(stop_after=4)
    lost: list[BaseException] = []
    calls = 0

    def session() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            backoff.reset()  # connected, then lost again
        if calls == 2:
            raise RuntimeError("bug in the session")
        raise pika.exceptions.AMQPConnectionError("refused")

    with caplog.at_level(logging.INFO, logger="contract.amqp"):
        amqp.run_sessions(session, name="vsr-test", backoff=backoff, stop=stop, on_lost=lost.append)
    assert stop.waits == [0.5, 1.0, 0.5, 1.0]
    assert [type(e) for e in lost] == [
        pika.exceptions.AMQPConnectionError, RuntimeError,
        pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPConnectionError,
    ]
    lines = [r for r in caplog.records if r.getMessage().startswith("reconnecting in")]
    assert [r.getMessage() for r in lines] == [
        "reconnecting in 0.50s", "reconnecting in 1.00s", "reconnecting in 0.50s", "reconnecting in 1.00s"
    ]
    assert [(r.__dict__["attempt"], r.__dict__["delay_s"]) for r in lines] == [
        (0, 0.5), (1, 1.0), (0, 0.5), (1, 1.0)
    ]
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records), "a bug keeps its traceback"


def test_run_sessions_does_not_wait_after_a_session_that_ended_by_stop() -> None:
    stop = Clock(stop_after=99)

    def session() -> None:
        stop._event.set()

    amqp.run_sessions(session, name="vsr-test", backoff=amqp.Backoff(), stop=stop)
    assert stop.waits == []
