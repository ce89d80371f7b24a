"""The one mapping of media subprocess failures (``contract.media``) onto the adapter's error tree.

Timeout, a kill by a signal and a missing program are the host's fault: TransientJobError, retried.
A non-zero exit means the tool could not read the input: InvalidInputError (permanent) with the call
site's reason, except a full disk, which is the storage's fault (StorageFull, transient).
A cancel becomes JobCancelled. ``storage_full`` finds a full disk behind any other failure of a run.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

from adapter.errors import (
    InvalidInputError,
    JobCancelled,
    PermanentJobError,
    StorageError,
    StorageFull,
    TransientJobError,
)
from contract import media
from contract.catalogue import Reason, reason

#: stderr phrases that mean the output storage, not the input, failed.
_STORAGE_FULL = ("No space left on device", "Disk quota exceeded")
#: errno values of a full volume or an exhausted quota.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: Free bytes below which a volume counts as full when a storage write failed without an errno.
NEARLY_FULL_BYTES = 1024 * 1024


def disk_full() -> StorageFull:
    """The error of a run that found no space left for its outputs or temporaries."""
    return StorageFull(reason("media.storage_full"))


def storage_full(exc: BaseException, folder: Path) -> StorageFull | None:
    """A StorageFull for a run's failure caused by a full disk, else None (a cancel or a bad input never is).

    Found by an ENOSPC/EDQUOT OSError in the exception's chain, or, for a StorageError whose tool gave
    no errno (an image writer returning False), by the output folder's volume being (nearly) full.
    """
    if isinstance(exc, (StorageFull, PermanentJobError, JobCancelled)) or not isinstance(exc, Exception):
        return None
    if _full_in_chain(exc) or (isinstance(exc, StorageError) and _nearly_full(folder)):
        found = disk_full()
        found.__cause__ = exc  # as ``raise ... from exc``: the cause stays in the logs
        return found
    return None


def _full_in_chain(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:  # a chain can loop back on itself
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return True
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return False


def _nearly_full(folder: Path) -> bool:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < NEARLY_FULL_BYTES


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
            return disk_full()
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
