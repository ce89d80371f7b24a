"""adapter.media: the one mapping of runner failures onto the adapter's error tree."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from adapter import media as adapter_media
from adapter.errors import (
    InvalidInputError,
    JobCancelled,
    LimitExceededError,
    StorageError,
    StorageFull,
    TransientJobError,
)
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


@pytest.mark.parametrize(
    "tail", ["write_frame(): No space left on device", "av_write_trailer: Disk quota exceeded"]
)
def test_a_full_disk_is_the_storage_not_the_input(tail: str) -> None:
    full = media.MediaFailed(1, program="ffmpeg", tail=tail)
    mapped = adapter_media.job_error(full, FAILED)
    assert type(mapped) is StorageFull and _code(mapped) == "media.storage_full"
    assert isinstance(mapped, StorageError) and isinstance(mapped, TransientJobError)


def _caused(cause: BaseException, error: Exception) -> Exception:
    try:
        raise error from cause
    except Exception as exc:  # the raised error itself, with its cause set
        return exc


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_an_enospc_behind_any_run_failure_is_a_full_disk(tmp_path: Path, code: int) -> None:
    bare = OSError(code, "No space left on device")
    wrapped = _caused(bare, StorageError(reason("media.output_failed")))
    unexpected = _caused(bare, RuntimeError("encoder said no"))
    for error in (bare, wrapped, unexpected):
        found = adapter_media.storage_full(error, tmp_path)
        assert type(found) is StorageFull and _code(found) == "media.storage_full", error


def test_other_failures_are_not_a_full_disk(tmp_path: Path) -> None:
    others: list[BaseException] = [
        OSError(errno.EACCES, "Permission denied"),
        StorageError(reason("media.output_failed")),  # tmp_path's volume has room
        JobCancelled("cancelled"),
        _caused(OSError(errno.ENOSPC, "full"), LimitExceededError(reason("media.output_failed"))),
        KeyboardInterrupt(),
    ]
    for error in others:
        assert adapter_media.storage_full(error, tmp_path) is None, error


def test_a_storage_error_without_errno_on_a_full_volume_is_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class _Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(adapter_media.os, "statvfs", lambda _path: _Full())
    found = adapter_media.storage_full(StorageError(reason("job.preview_not_written")), tmp_path)
    assert type(found) is StorageFull


def test_cancel_maps_to_job_cancelled() -> None:
    cancelled = media.MediaCancelled("cancelled", program="ffmpeg")
    assert isinstance(adapter_media.job_error(cancelled, FAILED), JobCancelled)


def test_run_raises_the_mapped_error_from_the_runner_failure() -> None:
    with pytest.raises(InvalidInputError) as caught:
        adapter_media.run(["sh", "-c", "exit 1"], timeout_s=10, failed=FAILED)
    assert isinstance(caught.value.__cause__, media.MediaFailed)
    assert str(caught.value) == FAILED.text("en")
