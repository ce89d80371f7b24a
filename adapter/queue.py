"""Delivery rules: what the worker does with a task given how it ended and how often it was delivered.

Pure functions only (no broker, no files) so every rule is unit-tested. RabbitMQ quorum queues put
``x-delivery-count`` on each delivery: 0 the first time, +1 after every nack-requeue or lost channel.
With ``x-delivery-limit`` = L the broker dead-letters the task once the count would exceed L, so a
task is delivered at most L + 1 times and the delivery with count == L is the last one.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from adapter.errors import BadMessageError, JobCancelled, JobError, PermanentJobError
from contract import topology
from contract.catalogue import Reason, reason
from contract.messages import FailedEvent, JobMessage
from contract.storage import UnsafeKeyError, job_dir, segment_key, segments_dir

#: Header of the dead-lettered copy that says, in words, why it was dead-lettered.
REASON_HEADER = topology.DEAD_REASON_HEADER
JOB_ID_HEADER = "x-vsr-job-id"


class Action(enum.Enum):
    """What happens to the delivery."""

    ACK = "ack"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Decision:
    """The outcome of one delivery: an action, the event to publish first (if any), and why in a log line."""

    action: Action
    event: FailedEvent | None = None
    reason: str | None = None
    outcome: str = "done"


def delivery_count(headers: Mapping[str, Any] | None) -> int:
    """How many times this task was delivered before (0 on the first delivery)."""
    value = (headers or {}).get("x-delivery-count", 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def is_last_delivery(count: int, limit: int) -> bool:
    """True when the broker will dead-letter the task if this delivery is not acked."""
    return count >= limit


def needs_guard(count: int, limit: int) -> bool:
    """Run in a child process when earlier deliveries died unacked, so a crash cannot take the worker.

    Guarding the last two deliveries leaves one guarded retry for a crash that was not the input's fault.
    """
    return count >= max(0, limit - 1)


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


def decide_exhausted(job_id: str, count: int, limit: int) -> Decision:
    """Delivered more often than the limit allows (e.g. limits disagree): fail without running."""
    why = reason("job.gave_up", attempts=count + 1)
    return Decision(Action.DEAD_LETTER, failed_event(job_id, why), str(why), "exhausted")


def decide_success() -> Decision:
    """Result stored and done event confirmed: ack."""
    return Decision(Action.ACK, None, None, outcome="done")


def decide_failure(job_id: str, error: BaseException, count: int, limit: int) -> Decision:
    """Map how a job ended to ack / requeue / dead-letter and the failed event to publish first."""
    if isinstance(error, JobCancelled):
        return Decision(Action.ACK, None, None, outcome="cancelled")
    why = _why(error)
    if isinstance(error, PermanentJobError):
        return Decision(Action.DEAD_LETTER, failed_event(job_id, why), str(why), "failed")
    if not is_last_delivery(count, limit):
        return Decision(Action.REQUEUE, None, str(why), outcome="retried")
    # The user sees what went wrong last; the log line also says that it was the last try.
    text = f"{why} Gave up after {attempts_text(count)}."
    return Decision(Action.DEAD_LETTER, failed_event(job_id, why, text), text, "failed")


def _why(error: BaseException) -> Reason:
    """The reason of a job error; an unexpected exception is most likely a bug this input triggers."""
    if isinstance(error, JobError):
        return error.reason
    return reason("job.internal_error", detail=f"{type(error).__name__}: {error}")
