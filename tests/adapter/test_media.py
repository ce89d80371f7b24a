"""adapter.media: the one mapping of runner failures onto the adapter's error tree."""

from __future__ import annotations

import pytest

from adapter import media as adapter_media
from adapter.errors import InvalidInputError, JobCancelled, StorageError, TransientJobError
from contract import media
from contract.catalogue import Reason, reason

FAILED = reason("media.mux_failed")


def _code(error: Exception) -> str:
    """The catalogue code an adapter error carries (as ``reason`` once the errors are ReasonErrors)."""
    why = getattr(error, "reason", None) or error.args[0]
    assert isinstance(why, Reason)
    return why.code


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (media.MediaFailed(1, program="ffmpeg", tail="Invalid data"), InvalidInputError, "media.mux_failed"),
        (media.MediaTimeout(30, program="ffmpeg"), TransientJobError, "media.timed_out"),
        (media.MediaKilled("killed by signal 9", program="ffmpeg"), TransientJobError, "media.tool_crashed"),
        (media.MediaMissing("not installed", program="ffmpeg"), TransientJobError, "media.tool_missing"),
    ],
)
def test_each_failure_maps_to_one_adapter_error(
    error: media.MediaError, expected: type[Exception], code: str
) -> None:
    mapped = adapter_media.job_error(error, FAILED)
    assert type(mapped) is expected and _code(mapped) == code
    assert error.transient == issubclass(expected, TransientJobError)


def test_a_full_disk_is_the_storage_not_the_input() -> None:
    full = media.MediaFailed(1, program="ffmpeg", tail="write_frame(): No space left on device")
    mapped = adapter_media.job_error(full, FAILED)
    assert type(mapped) is StorageError and _code(mapped) == "media.storage_full"


def test_cancel_maps_to_job_cancelled() -> None:
    cancelled = media.MediaCancelled("cancelled", program="ffmpeg")
    assert isinstance(adapter_media.job_error(cancelled, FAILED), JobCancelled)


def test_run_raises_the_mapped_error_from_the_runner_failure() -> None:
    with pytest.raises(InvalidInputError) as caught:
        adapter_media.run(["sh", "-c", "exit 1"], timeout_s=10, failed=FAILED)
    assert isinstance(caught.value.__cause__, media.MediaFailed)
    assert str(caught.value) == FAILED.text("en")
