"""Delivery rules: exception type + tries → ack / retry later / dead-letter and the event to publish."""

from __future__ import annotations

import json

import pytest

from adapter.errors import (
    BadMessageError,
    InferenceUnavailableError,
    InvalidInputError,
    JobCancelled,
    JobError,
    LimitExceededError,
    ModelContractError,
    ModelUnavailableError,
    ProcessCrashedError,
    StorageError,
)
from adapter.worker.guard import crash_reason
from adapter.worker.queue import (
    Action,
    RetryPolicy,
    Tries,
    decide_bad_message,
    decide_exhausted,
    decide_failure,
    decide_success,
    delivery_count,
    guard_this,
    is_exhausted,
    needs_guard,
    parse_job,
    retry_delay,
    retry_headers,
    tries_of,
)
from contract import topology
from contract.catalogue import reason
from contract.messages import FailedEvent, JobMessage, RetryEvent
from contract.storage import UnsafeKeyError

JOB = "0123456789abcdef0123456789abcdef"
LIMIT = 3
TRITON_DOWN = reason("job.triton_unreachable", url="triton:8001")
POLICY = RetryPolicy(attempts=4, min_s=2, max_s=256, infra_budget_s=1800)
NOW = 1_800_000_000.0
FIRST = Tries()


class Top:
    """Jitter that always draws the top of the range (the longest delay the backoff allows)."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Bottom:
    """Jitter that always draws 0 (the shortest delay)."""

    def uniform(self, a: float, b: float) -> float:
        return a


def _body(**overrides: object) -> bytes:
    data: dict[str, object] = {
        "job_id": JOB, "input_key": f"jobs/{JOB}/input.mp4", "output_key": f"jobs/{JOB}/output.mp4",
    }
    data.update(overrides)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("headers", "count"),
    [(None, 0), ({}, 0), ({"x-delivery-count": 0}, 0), ({"x-delivery-count": 2}, 2),
     ({"x-delivery-count": "junk"}, 0), ({"x-delivery-count": -1}, 0)],
)
def test_delivery_count_reads_the_quorum_header(headers: dict[str, object] | None, count: int) -> None:
    assert delivery_count(headers) == count


def test_the_guard_follows_the_limit() -> None:
    assert [needs_guard(c, LIMIT) for c in range(5)] == [False, False, True, True, True]
    assert needs_guard(0, 0) and needs_guard(0, 1)


def test_success_acks_without_event() -> None:
    decision = decide_success()
    assert decision.action is Action.ACK and decision.event is None


def test_cancelled_job_is_acked_silently() -> None:
    decision = decide_failure(JOB, JobCancelled(), FIRST, POLICY, NOW)
    assert (decision.action, decision.event, decision.outcome) == (Action.ACK, None, "cancelled")


@pytest.mark.parametrize(
    "error",
    [
        InvalidInputError(reason("media.no_video_stream")),
        LimitExceededError(
            reason("options.output_too_large", width=9000, height=9000, max_width=7680, max_height=4320)
        ),
    ],
)
@pytest.mark.parametrize("attempt", [1, POLICY.attempts])
def test_permanent_error_dead_letters_with_failed_event(error: Exception, attempt: int) -> None:
    decision = decide_failure(JOB, error, Tries(attempt), POLICY, NOW)
    assert decision.action is Action.DEAD_LETTER
    assert isinstance(decision.event, FailedEvent)
    assert decision.event.job_id == JOB and decision.event.permanent
    assert decision.event.reason == str(error) == decision.reason


@pytest.mark.parametrize(
    "error",
    [
        InferenceUnavailableError(TRITON_DOWN),
        StorageError(reason("job.preview_not_written")),
        ProcessCrashedError(crash_reason(-11)),
        ModelContractError(reason("job.model_no_output")),
    ],
)
def test_transient_error_is_retried_later_with_the_next_attempt_in_its_headers(error: JobError) -> None:
    for attempt in range(1, POLICY.attempts):
        tries = Tries(attempt, retries=attempt - 1, first_failure=None if attempt == 1 else 1000)
        decision = decide_failure(JOB, error, tries, POLICY, NOW, Top())
        assert decision.action is Action.RETRY and decision.outcome == "retried"
        assert decision.delay_s == topology.RETRY_DELAYS_S[attempt - 1], "the ceiling doubles per retry"
        assert decision.headers == {
            topology.ATTEMPT_HEADER: attempt + 1,
            topology.RETRIES_HEADER: attempt,
            topology.FIRST_FAILURE_HEADER: int(NOW) if attempt == 1 else 1000,
        }
        event = decision.event
        assert isinstance(event, RetryEvent) and not event.infra
        assert (event.attempt, event.attempts) == (attempt + 1, POLICY.attempts)
        assert event.delay_s == decision.delay_s
        assert event.reason == str(error) and event.code == error.reason.code


def test_transient_error_on_the_last_attempt_fails_the_job_with_its_reason() -> None:
    down = InferenceUnavailableError(TRITON_DOWN)
    decision = decide_failure(JOB, down, Tries(POLICY.attempts), POLICY, NOW)
    assert decision.action is Action.DEAD_LETTER
    assert isinstance(decision.event, FailedEvent) and decision.event.permanent
    assert decision.event.reason == "Cannot connect to Triton at triton:8001. Gave up after 4 attempts."
    assert decision.event.code == TRITON_DOWN.code


def test_unexpected_exception_is_retried_then_failed_as_internal_error() -> None:
    assert decide_failure(JOB, KeyError("x"), FIRST, POLICY, NOW).action is Action.RETRY
    decision = decide_failure(JOB, KeyError("x"), Tries(POLICY.attempts), POLICY, NOW)
    assert decision.event is not None
    assert decision.event.reason == "Internal error in the worker (KeyError: 'x'). Gave up after 4 attempts."


def test_backoff_has_full_jitter_fitted_to_the_retry_queues() -> None:
    assert retry_delay(Tries(retries=0), POLICY, Bottom()) == 2, "below the shortest queue: the shortest"
    assert [retry_delay(Tries(retries=n), POLICY, Top()) for n in range(10)] == [
        2, 4, 8, 16, 32, 64, 128, 256, 256, 256
    ]
    capped = RetryPolicy(min_s=2, max_s=30)
    assert retry_delay(Tries(retries=9), capped, Top()) == 16, "never above RETRY_MAX_S"
    draws = {retry_delay(Tries(retries=5), POLICY) for _ in range(200)}
    assert len(draws) > 2 and draws <= set(topology.RETRY_DELAYS_S[:6]), draws


def test_model_unavailable_waits_without_using_an_attempt() -> None:
    down = ModelUnavailableError(TRITON_DOWN)
    decision = decide_failure(JOB, down, Tries(2, retries=3, first_failure=int(NOW) - 60), POLICY, NOW, Top())
    assert decision.action is Action.RETRY and decision.pause and decision.outcome == "model_wait"
    assert decision.headers[topology.ATTEMPT_HEADER] == 2, "the attempt is not counted"
    assert decision.headers[topology.FIRST_FAILURE_HEADER] == int(NOW) - 60
    assert decision.delay_s == 16
    assert isinstance(decision.event, RetryEvent) and decision.event.infra and decision.event.attempt == 2
    # Even on the last attempt, a model-server outage does not fail the job.
    last = decide_failure(JOB, down, Tries(POLICY.attempts), POLICY, NOW)
    assert last.action is Action.RETRY


def test_model_unavailable_fails_the_job_once_the_wall_clock_budget_is_spent() -> None:
    down = ModelUnavailableError(TRITON_DOWN)
    tries = Tries(1, retries=40, first_failure=int(NOW - POLICY.infra_budget_s))
    decision = decide_failure(JOB, down, tries, POLICY, NOW)
    assert decision.action is Action.DEAD_LETTER and decision.outcome == "failed"
    assert isinstance(decision.event, FailedEvent) and decision.event.permanent
    assert decision.event.code == "job.model_budget" and decision.event.params == {"minutes": 30}
    assert decision.event.why() == reason("job.model_budget", minutes=30)
    assert "Cannot connect to Triton" in (decision.reason or "")


@pytest.mark.parametrize(
    ("headers", "tries"),
    [
        (None, Tries(1, 0, None)),
        ({"x-delivery-count": 2}, Tries(3, 0, None)),
        (
            {topology.ATTEMPT_HEADER: 3, topology.RETRIES_HEADER: 5, topology.FIRST_FAILURE_HEADER: 99},
            Tries(3, 5, 99),
        ),
        ({topology.ATTEMPT_HEADER: 3, "x-delivery-count": 1}, Tries(4, 0, None)),
        ({topology.ATTEMPT_HEADER: "junk", topology.RETRIES_HEADER: -2}, Tries(1, 0, None)),
    ],
)
def test_tries_come_from_the_headers_and_crash_redeliveries(
    headers: dict[str, object] | None, tries: Tries
) -> None:
    assert tries_of(headers) == tries


def test_retry_copy_drops_the_brokers_bookkeeping_and_keeps_the_rest() -> None:
    old = {"x-delivery-count": 2, "x-death": [{}], "x-first-death-queue": "q", "x-vsr-job-id": "j", "a": 1}
    expected = {"x-vsr-job-id": "j", "a": 1, topology.ATTEMPT_HEADER: 2}
    assert retry_headers(old, {topology.ATTEMPT_HEADER: 2}) == expected


def test_crash_redeliveries_are_guarded_near_the_limits_and_exhaust_the_attempts() -> None:
    assert not guard_this(0, 5, Tries(4), POLICY), "a first delivery never needs the guard"
    assert guard_this(1, 5, Tries(4), POLICY), "a crash on the last attempt is retried guarded"
    assert guard_this(4, 5, Tries(1), POLICY)
    assert is_exhausted(6, 5, Tries(1), POLICY) and is_exhausted(0, 5, Tries(POLICY.attempts + 1), POLICY)
    assert not is_exhausted(5, 5, Tries(POLICY.attempts), POLICY)


def test_exhausted_delivery_fails_without_running() -> None:
    decision = decide_exhausted(JOB, 5)
    assert decision.action is Action.DEAD_LETTER
    assert decision.event is not None and decision.event.reason == str(reason("job.gave_up", attempts=5))


def test_parse_job_accepts_a_valid_message() -> None:
    job = parse_job(_body(options={"model": "realesr-animevideov3-x2", "scale": 2}))
    assert isinstance(job, JobMessage) and job.options.scale == 2


@pytest.mark.parametrize(
    ("body", "job_id", "code", "fragment"),
    [
        (b"\xff not json", None, "job.malformed_task", "Malformed"),
        (b"[]", None, "job.malformed_task", "Malformed"),
        (_body(job_id="../../etc"), None, "job.malformed_task", "job_id"),
        (_body(options={"model": "nope"}), JOB, "job.malformed_task", "options"),
        (
            _body(output_key="jobs/ffffffffffffffffffffffffffffffff/output.mp4"),
            JOB,
            "job.key_outside_job",
            "outside the job folder",
        ),
        (_body(input_key="/etc/passwd"), JOB, "job.key_outside_job", "outside the job folder"),
    ],
)
def test_parse_job_refuses_bad_messages_with_a_reason(
    body: bytes, job_id: str | None, code: str, fragment: str
) -> None:
    with pytest.raises(BadMessageError) as info:
        parse_job(body)
    assert info.value.job_id == job_id and info.value.code == code
    assert fragment in str(info.value)


def test_bad_message_dead_letters_and_fails_the_job_when_known() -> None:
    malformed = reason("job.malformed_task", detail="body: not JSON")
    known = decide_bad_message(BadMessageError(malformed, JOB), JOB)
    assert known.action is Action.DEAD_LETTER and known.event is not None
    assert known.reason == known.event.reason == "Malformed task message (body: not JSON)."
    unknown = decide_bad_message(UnsafeKeyError("storage key escapes the root: '../x'"), None)
    assert unknown.action is Action.DEAD_LETTER and unknown.event is None
    assert unknown.reason == "The task names an unsafe storage key (storage key escapes the root: '../x')."


def test_crash_reasons_name_the_signal_or_the_exit_status() -> None:
    assert str(crash_reason(-9)).startswith("Processing crashed (killed by SIGKILL)")
    assert crash_reason(3) == reason("job.crashed_exit", status=3)
