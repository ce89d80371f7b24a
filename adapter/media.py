"""The one mapping of media subprocess failures (``contract.media``) onto the adapter's error tree.

Timeout, a kill by a signal and a missing program are the host's fault: TransientJobError, retried.
A non-zero exit means the tool could not read the input: InvalidInputError (permanent) with the call
site's reason, except a full disk, which is the storage's fault (StorageError, transient).
A cancel becomes JobCancelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapter.errors import InvalidInputError, JobCancelled, StorageError, TransientJobError
from contract import media
from contract.catalogue import Reason, reason

#: stderr phrases that mean the output storage, not the input, failed.
_STORAGE_FULL = ("No space left on device", "Disk quota exceeded")


def job_error(exc: media.MediaError, failed: Reason) -> Exception:
    """The adapter error for ``exc``; ``failed`` is the call site's reason for a non-zero exit."""
    if isinstance(exc, media.MediaCancelled):
        return JobCancelled("cancelled")
    if isinstance(exc, media.MediaTimeout):
        return TransientJobError(reason("media.timed_out", seconds=round(exc.timeout_s)))
    if isinstance(exc, media.MediaMissing):
        return TransientJobError(reason("media.tool_missing", program=exc.program))
    if isinstance(exc, media.MediaFailed):
        if any(phrase in exc.tail for phrase in _STORAGE_FULL):
            return StorageError(reason("media.storage_full"))
        return InvalidInputError(failed)
    return TransientJobError(reason("media.tool_crashed", program=exc.program))


def run(
    args: Sequence[media.Arg],
    *,
    timeout_s: float,
    failed: Reason,
    should_stop: media.StopFn | None = None,
    stdin: bytes | None = None,
) -> media.Completed:
    """``contract.media.run`` with its failures mapped by :func:`job_error`."""
    try:
        return media.run(args, timeout_s=timeout_s, should_stop=should_stop, stdin=stdin)
    except media.MediaError as exc:
        raise job_error(exc, failed) from exc
