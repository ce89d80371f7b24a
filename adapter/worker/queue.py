"""Delivery rules: what the worker does with a task given how it ended and how often it was tried.

Pure functions only (no broker, no files, the clock and the jitter passed in) so every rule is
unit-tested. RabbitMQ quorum queues put ``x-delivery-count`` on each delivery: 0 the first time, +1
after every nack-requeue or lost channel (a worker that died). With ``x-delivery-limit`` = L the broker
dead-letters the task once the count would exceed L.

A transient failure is retried later, not at once: the worker copies the task (confirmed) into the retry
queue whose delay fits a jittered exponential backoff (``contract.amqp.Backoff``), with the attempt in
``x-vsr-attempt``, then acks it; the copy comes back to the task queue when its TTL ends. The attempt of
a delivery is that header (1 when absent) plus its crash redeliveries. A model-server outage
(``ModelUnavailableError``) is no attempt: it waits the same way until INFRA_BUDGET_S of wall-clock time
have passed since ``x-vsr-first-failure``. So is overload (``ModelOverloadedError``: a call timed out while
the model answered its readiness check), except that the worker keeps consuming: the server is up.

Every delivery of a task is a *run* (``Tries.run``): it starts from frame 0, and its progress events say
which run they belong to, so the job's page never mixes the frames of two runs.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from adapter.errors import (
    BadMessageError,
    JobCancelled,
    JobError,
    ModelOverloadedError,
    ModelUnavailableError,
    PermanentJobError,
)
from contract import amqp, limits, topology
from contract.catalogue import Reason, reason
from contract.container import SUFFIXES
from contract.messages import FailedEvent, JobMessage, RetryEvent
from contract.storage import UnsafeKeyError, job_dir, segment_key, segments_dir

#: Header of the dead-lettered copy that says, in words, why it was dead-lettered.
REASON_HEADER = topology.DEAD_REASON_HEADER
JOB_ID_HEADER = "x-vsr-job-id"


class Action(enum.Enum):
    """What happens to the delivery."""

    ACK = "ack"
    REQUEUE = "requeue"
    #: Copy the task into the retry queue of ``delay_s`` with ``headers`` (confirmed), then ack.
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Decision:
    """The outcome of one delivery: an action, the event to publish first (if any), and why in a log line.

    A RETRY names its retry queue's delay and the headers of the copy; ``pause`` asks the worker to stop
    consuming until the model server is ready again.
    """

    action: Action
    event: FailedEvent | RetryEvent | None = None
    reason: str | None = None
    outcome: str = "done"
    delay_s: int | None = None
    headers: dict[str, int] = field(default_factory=dict)
    pause: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a task is retried (adapter settings; defaults from contract.limits)."""

    attempts: int = limits.TASK_ATTEMPTS
    min_s: float = limits.RETRY_MIN_S
    max_s: float = limits.RETRY_MAX_S
    infra_budget_s: float = limits.INFRA_BUDGET_S
    delays: tuple[int, ...] = topology.RETRY_DELAYS_S


@dataclass(frozen=True)
class Tries:
    """What a delivery says about earlier tries of its task."""

    #: This delivery's attempt, 1-based: ``x-vsr-attempt`` plus the crash redeliveries since.
    attempt: int = 1
    #: Retries scheduled before this delivery (the backoff's exponent).
    retries: int = 0
    #: Epoch seconds of the task's first failure, if it failed before.
    first_failure: int | None = None

    @property
    def run(self) -> int:
        """This delivery's run of the task, 1-based, growing with every delivery (retry or redelivery).

        A retry adds one retry (and one attempt unless it waits for the model server); a crash redelivery
        adds one attempt: the sum never repeats.
        """
        return self.attempt + self.retries


def delivery_count(headers: Mapping[str, Any] | None) -> int:
    """How many times this task was delivered before (0 on the first delivery)."""
    value = (headers or {}).get("x-delivery-count", 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _header_int(headers: Mapping[str, Any], name: str) -> int | None:
    value = headers.get(name)
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def tries_of(headers: Mapping[str, Any] | None) -> Tries:
    """The tries a delivery's headers record (missing or junk headers: a first attempt)."""
    values = headers or {}
    attempt = max(1, _header_int(values, topology.ATTEMPT_HEADER) or 1) + delivery_count(values)
    retries = max(0, _header_int(values, topology.RETRIES_HEADER) or 0)
    return Tries(attempt, retries, _header_int(values, topology.FIRST_FAILURE_HEADER))


def retry_headers(old: Mapping[str, Any] | None, new: Mapping[str, int]) -> dict[str, Any]:
    """Headers of a task's retry copy: the old ones without the broker's bookkeeping, plus ``new``."""
    kept = {
        name: value
        for name, value in (old or {}).items()
        if name != "x-delivery-count" and not name.startswith(("x-death", "x-first-death", "x-last-death"))
    }
    return {**kept, **new}


def needs_guard(count: int, limit: int) -> bool:
    """Run in a child process when earlier deliveries died unacked, so a crash cannot take the worker.

    Guarding the last two deliveries leaves one guarded retry for a crash that was not the input's fault.
    """
    return count >= max(0, limit - 1)


def guard_this(count: int, limit: int, tries: Tries, policy: RetryPolicy) -> bool:
    """Guard a crash redelivery near the broker's limit, or one that is the task's last attempt."""
    return needs_guard(count, limit) or (count > 0 and tries.attempt >= policy.attempts)


def is_exhausted(count: int, limit: int, tries: Tries, policy: RetryPolicy) -> bool:
    """Delivered beyond the broker's limit or the attempts (crashes used them up): fail without running."""
    return count > limit or tries.attempt > policy.attempts


def attempts_text(count: int) -> str:
    """Count of attempts so far, including this one, for log lines."""
    attempts = count + 1
    return f"{attempts} attempt{'s' if attempts != 1 else ''}"


def failed_event(job_id: str, why: Reason, text: str | None = None) -> FailedEvent:
    """The failed event of a job: ``why`` for the user, ``text`` (default: its English) as ``reason``."""
    event = FailedEvent.from_reason(job_id, why)
    return event if text is None else event.model_copy(update={"reason": text})


def parse_job(body: bytes) -> JobMessage:
    """Parse and check a task body; raise BadMessageError with a one-line reason."""
    job_id = _job_id_hint(body)
    try:
        job = JobMessage.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        detail = f"{where}: {first.get('msg')}"
        raise BadMessageError(reason("job.malformed_task", detail=detail), job_id) from exc
    prefix = job_dir(job.job_id) + "/"
    for key in (job.input_key, job.output_key):
        if not key.startswith(prefix):
            raise BadMessageError(reason("job.key_outside_job", key=key, folder=prefix), job.job_id)
    # A segment writes only its own segment file; everything else writes the finished video.
    expected = segment_key(job.job_id, job.segment.index) if job.segment is not None else None
    if expected is not None and job.output_key != expected:
        why = reason("job.wrong_segment_key", key=job.output_key, expected=expected)
        raise BadMessageError(why, job.job_id)
    if expected is None and job.output_key.startswith(segments_dir(job.job_id) + "/"):
        raise BadMessageError(reason("job.output_is_segment", key=job.output_key), job.job_id)
    container = job.options.container
    if expected is None and container != "auto" and not job.output_key.endswith(SUFFIXES[container]):
        why = reason("job.wrong_container", key=job.output_key, container=container)
        raise BadMessageError(why, job.job_id)
    return job


def _job_id_hint(body: bytes) -> str | None:
    """Best-effort job id of a body that may not validate, so its job can still be failed."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    job_id = data.get("job_id") if isinstance(data, dict) else None
    if isinstance(job_id, str) and len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id):
        return job_id
    return None


def decide_bad_message(error: BadMessageError | UnsafeKeyError, job_id: str | None) -> Decision:
    """A task that can never run: dead-letter it with the reason; fail its job when it has one."""
    why = error.reason if isinstance(error, BadMessageError) else reason("job.unsafe_key", detail=str(error))
    event = failed_event(job_id, why) if job_id else None
    return Decision(Action.DEAD_LETTER, event, str(why), outcome="bad_message")


def decide_exhausted(job_id: str, attempts: int) -> Decision:
    """``attempts`` were used up (crashes, or limits that disagree): fail without running."""
    why = reason("job.gave_up", attempts=attempts)
    return Decision(Action.DEAD_LETTER, failed_event(job_id, why), str(why), "exhausted")


def decide_success() -> Decision:
    """Result stored and done event confirmed: ack."""
    return Decision(Action.ACK, None, None, outcome="done")


def retry_delay(tries: Tries, policy: RetryPolicy, rng: amqp.Uniform | None = None) -> int:
    """The retry queue delay for the next retry: full-jitter backoff, fitted to the queues' delays."""
    backoff = amqp.Backoff(policy.min_s, policy.max_s, rng=rng)
    backoff.attempt = tries.retries
    return topology.retry_delay(backoff.next_delay(), policy.delays)


def decide_failure(
    job_id: str,
    error: BaseException,
    tries: Tries,
    policy: RetryPolicy,
    now: float,
    rng: amqp.Uniform | None = None,
) -> Decision:
    """Map how a job ended to ack / retry / dead-letter and the event to publish first (``now``: epoch s)."""
    if isinstance(error, JobCancelled):
        return Decision(Action.ACK, None, None, outcome="cancelled")
    why = _why(error)
    if isinstance(error, PermanentJobError):
        return Decision(Action.DEAD_LETTER, failed_event(job_id, why), str(why), "failed")
    first = tries.first_failure if tries.first_failure is not None else int(now)
    if isinstance(error, ModelUnavailableError):
        overloaded = isinstance(error, ModelOverloadedError)
        return _decide_model_wait(job_id, why, tries, policy, now, first, rng, overloaded=overloaded)
    if tries.attempt >= policy.attempts:
        # The user sees what went wrong last; the log line also says that it was the last try.
        text = f"{why} Gave up after {attempts_text(tries.attempt - 1)}."
        return Decision(Action.DEAD_LETTER, failed_event(job_id, why, text), text, "failed")
    delay = retry_delay(tries, policy, rng)
    after = Tries(tries.attempt + 1, tries.retries + 1, first)
    event = RetryEvent.from_reason(
        job_id, why, attempt=after.attempt, attempts=policy.attempts, delay_s=delay, run=after.run
    )
    headers = _headers(after.attempt, after.retries, first)
    return Decision(Action.RETRY, event, str(why), "retried", delay, headers)


def _decide_model_wait(
    job_id: str,
    why: Reason,
    tries: Tries,
    policy: RetryPolicy,
    now: float,
    first: int,
    rng: amqp.Uniform | None,
    *,
    overloaded: bool = False,
) -> Decision:
    """The model server is down (or behind): wait for it, no attempt used, until the budget is spent.

    An outage pauses the worker until the model is ready again; overload does not (the model is ready).
    """
    pause = not overloaded
    waited = max(0.0, now - first)
    if waited >= policy.infra_budget_s:
        gave_up = reason("job.model_budget", minutes=max(1, round(waited / 60)))
        text = f"{gave_up} Last error: {why}"
        return Decision(Action.DEAD_LETTER, failed_event(job_id, gave_up, text), text, "failed", pause=pause)
    delay = retry_delay(tries, policy, rng)
    after = Tries(tries.attempt, tries.retries + 1, first)
    event = RetryEvent.from_reason(
        job_id, why, attempt=after.attempt, attempts=policy.attempts, delay_s=delay, infra=True, run=after.run
    )
    outcome = "overloaded" if overloaded else "model_wait"
    headers = _headers(after.attempt, after.retries, first)
    return Decision(Action.RETRY, event, str(why), outcome, delay, headers, pause=pause)


def _headers(attempt: int, retries: int, first_failure: int) -> dict[str, int]:
    return {
        topology.ATTEMPT_HEADER: attempt,
        topology.RETRIES_HEADER: retries,
        topology.FIRST_FAILURE_HEADER: first_failure,
    }


def _why(error: BaseException) -> Reason:
    """The reason of a job error; an unexpected exception is most likely a bug this input triggers."""
    if isinstance(error, JobError):
        return error.reason
    return reason("job.internal_error", detail=f"{type(error).__name__}: {error}")
