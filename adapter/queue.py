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

from adapter.errors import JobCancelled, PermanentJobError, TransientJobError
from contract import topology
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
    """The outcome of one delivery: an action, the event to publish first (if any), and a reason."""

    action: Action
    event: FailedEvent | None = None
    reason: str | None = None
    outcome: str = "done"


class BadMessageError(Exception):
    """The task body is not a valid JobMessage or names storage outside its job; never retried."""

    def __init__(self, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason)
        self.job_id = job_id


class ProcessCrashedError(TransientJobError):
    """The process running the job died (e.g. the decoder crashed on a poison input)."""


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
    """Human count of attempts so far, including this one."""
    attempts = count + 1
    return f"{attempts} attempt{'s' if attempts != 1 else ''}"


def parse_job(body: bytes) -> JobMessage:
    """Parse and check a task body; raise BadMessageError with a one-line reason."""
    job_id = _job_id_hint(body)
    try:
        job = JobMessage.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise BadMessageError(f"malformed task message ({where}: {first.get('msg')})", job_id) from exc
    prefix = job_dir(job.job_id) + "/"
    for key in (job.input_key, job.output_key):
        if not key.startswith(prefix):
            raise BadMessageError(f"storage key {key!r} is outside the job folder {prefix!r}", job.job_id)
    # A segment writes only its own segment file; everything else writes the finished video.
    expected = segment_key(job.job_id, job.segment.index) if job.segment is not None else None
    if expected is not None and job.output_key != expected:
        raise BadMessageError(f"segment output key {job.output_key!r} should be {expected!r}", job.job_id)
    if expected is None and job.output_key.startswith(segments_dir(job.job_id) + "/"):
        raise BadMessageError(f"output key {job.output_key!r} is a segment file", job.job_id)
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
    reason = str(error)
    event = FailedEvent(job_id=job_id, reason=reason) if job_id else None
    return Decision(Action.DEAD_LETTER, event, reason, outcome="bad_message")


def decide_exhausted(job_id: str, count: int, limit: int) -> Decision:
    """Delivered more often than the limit allows (e.g. limits disagree): fail without running."""
    reason = f"gave up after {attempts_text(count)}: every earlier attempt ended without a result"
    return Decision(Action.DEAD_LETTER, FailedEvent(job_id=job_id, reason=reason), reason, "exhausted")


def decide_success() -> Decision:
    """Result stored and done event confirmed: ack."""
    return Decision(Action.ACK, None, None, outcome="done")


def decide_failure(job_id: str, error: BaseException, count: int, limit: int) -> Decision:
    """Map how a job ended to ack / requeue / dead-letter and the failed event to publish first."""
    if isinstance(error, JobCancelled):
        return Decision(Action.ACK, None, None, outcome="cancelled")
    if isinstance(error, PermanentJobError):
        reason = str(error) or type(error).__name__
        return Decision(Action.DEAD_LETTER, FailedEvent(job_id=job_id, reason=reason), reason, "failed")
    if isinstance(error, TransientJobError):
        detail = str(error) or type(error).__name__
    else:
        # An unexpected exception is most likely a bug triggered by this input; retry like a transient one.
        detail = f"internal error: {type(error).__name__}: {error}"
    if not is_last_delivery(count, limit):
        return Decision(Action.REQUEUE, None, detail, outcome="retried")
    reason = f"{detail} (gave up after {attempts_text(count)})"
    return Decision(Action.DEAD_LETTER, FailedEvent(job_id=job_id, reason=reason), reason, "failed")
