"""Delivery rules: exception type + delivery count → ack / requeue / dead-letter and the event to publish."""

from __future__ import annotations

import json

import pytest

from adapter.errors import (
    BadMessageError,
    InferenceUnavailableError,
    InvalidInputError,
    JobCancelled,
    LimitExceededError,
    ModelContractError,
    ProcessCrashedError,
    StorageError,
)
from adapter.guard import crash_reason
from adapter.queue import (
    Action,
    decide_bad_message,
    decide_exhausted,
    decide_failure,
    decide_success,
    delivery_count,
    is_last_delivery,
    needs_guard,
    parse_job,
)
from contract.catalogue import reason
from contract.messages import JobMessage
from contract.storage import UnsafeKeyError

JOB = "0123456789abcdef0123456789abcdef"
LIMIT = 3
TRITON_DOWN = reason("job.triton_unreachable", url="triton:8001")


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


def test_last_delivery_and_guard_follow_the_limit() -> None:
    assert [is_last_delivery(c, LIMIT) for c in range(5)] == [False, False, False, True, True]
    assert [needs_guard(c, LIMIT) for c in range(5)] == [False, False, True, True, True]
    assert needs_guard(0, 0) and needs_guard(0, 1)


def test_success_acks_without_event() -> None:
    decision = decide_success()
    assert decision.action is Action.ACK and decision.event is None


def test_cancelled_job_is_acked_silently() -> None:
    decision = decide_failure(JOB, JobCancelled(), 0, LIMIT)
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
@pytest.mark.parametrize("count", [0, LIMIT])
def test_permanent_error_dead_letters_with_failed_event(error: Exception, count: int) -> None:
    decision = decide_failure(JOB, error, count, LIMIT)
    assert decision.action is Action.DEAD_LETTER
    assert decision.event is not None
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
def test_transient_error_requeues_before_the_last_delivery(error: Exception) -> None:
    for count in range(LIMIT):
        decision = decide_failure(JOB, error, count, LIMIT)
        assert decision.action is Action.REQUEUE
        assert decision.event is None


def test_transient_error_on_last_delivery_fails_the_job_with_its_reason() -> None:
    decision = decide_failure(JOB, InferenceUnavailableError(TRITON_DOWN), LIMIT, LIMIT)
    assert decision.action is Action.DEAD_LETTER
    assert decision.event is not None
    assert decision.event.reason == "Cannot connect to Triton at triton:8001. Gave up after 4 attempts."


def test_unexpected_exception_is_retried_then_failed_as_internal_error() -> None:
    assert decide_failure(JOB, KeyError("x"), 0, LIMIT).action is Action.REQUEUE
    decision = decide_failure(JOB, KeyError("x"), LIMIT, LIMIT)
    assert decision.event is not None
    assert decision.event.reason == "Internal error in the worker (KeyError: 'x'). Gave up after 4 attempts."


def test_exhausted_delivery_fails_without_running() -> None:
    decision = decide_exhausted(JOB, LIMIT + 1, LIMIT)
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
