"""A task's files: resolving them touches nothing, and no run re-creates a deleted job's folder."""

from __future__ import annotations

import errno
import shutil
import threading
import uuid
from pathlib import Path

import pika
import pytest

from adapter.errors import JobCancelled, StorageError, StorageFull
from adapter.job import Stages, Toolbox, Work
from adapter.video.stages import OnProgress, Progress, Result, ShouldStop
from adapter.worker import flight as flight_module
from adapter.worker.flight import Flight, StopCheck
from adapter.worker.workspace import JobFiles
from contract import storage
from contract.messages import JobMessage, Segment


def _job(segment: int | None = None) -> JobMessage:
    job_id = uuid.uuid4().hex
    if segment is None:
        return JobMessage(job_id=job_id, input_key=storage.input_key(job_id, ".mp4"),
                          output_key=storage.output_key(job_id))
    return JobMessage(
        job_id=job_id, input_key=storage.input_key(job_id, ".mp4"),
        output_key=storage.segment_key(job_id, segment), segment=Segment(index=segment, count=2, frames=10),
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.mark.parametrize("segment", [None, 1])
def test_resolving_a_tasks_files_creates_nothing(tmp_path: Path, segment: int | None) -> None:
    files = JobFiles.for_job(tmp_path, _job(segment))
    assert _tree(tmp_path) == []
    assert files.cancel_marker == storage.resolve(tmp_path, storage.cancel_key(files.folder.name))
    assert not files.cancel_marker.is_relative_to(files.folder)


def test_prepare_makes_a_segments_folder_inside_the_job_folder_only(tmp_path: Path) -> None:
    files = JobFiles.for_job(tmp_path, _job(segment=1))
    with pytest.raises(FileNotFoundError):
        files.prepare()  # the job was deleted: its folder is not brought back
    assert _tree(tmp_path) == []
    files.folder.mkdir(parents=True)
    files.prepare()
    assert files.output.parent.is_dir() and files.output.parent.parent == files.folder
    whole = JobFiles.for_job(tmp_path, _job())
    whole.prepare()
    assert not whole.folder.exists()


class _RaisesOnRun:
    """Stands in for ``execute``: records the call and fails as a write to a full disk does."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(
        self, work: Work, stages: Stages, tools: Toolbox, on_progress: OnProgress, should_stop: ShouldStop
    ) -> Result:
        self.calls += 1
        raise OSError(errno.ENOSPC, "No space left on device")


def _flight(root: Path, job: JobMessage) -> Flight:
    files = JobFiles.for_job(root, job)
    interrupt = threading.Event()
    stop = StopCheck(files.cancel_marker, 0.01, interrupt)
    return Flight(1, b"", pika.BasicProperties(), job, 0, files, stop, interrupt)


def _ignore(_item: Progress, /) -> None:
    return None


@pytest.mark.parametrize("segment", [None, 1])
def test_a_run_of_a_deleted_job_fails_without_recreating_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segment: int | None
) -> None:
    run = _RaisesOnRun()
    monkeypatch.setattr(flight_module, "execute", run)
    flight = _flight(tmp_path, _job(segment))
    flight.run(None, None, None, _ignore, guarded=False)  # type: ignore[arg-type]
    assert flight.error is not None and flight.done.is_set()
    assert _tree(tmp_path) == []


def test_a_full_disk_behind_a_runs_failure_becomes_storage_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _RaisesOnRun()
    monkeypatch.setattr(flight_module, "execute", run)
    flight = _flight(tmp_path, _job())
    flight.files.folder.mkdir(parents=True)
    flight.run(None, None, None, _ignore, guarded=False)  # type: ignore[arg-type]
    assert run.calls == 1
    assert isinstance(flight.error, StorageFull) and flight.error.code == "media.storage_full"
    assert isinstance(flight.error.__cause__, OSError)


def test_the_stop_check_sees_the_marker_and_a_vanished_job_folder(tmp_path: Path) -> None:
    files = JobFiles.for_job(tmp_path, _job())
    marked = StopCheck(files.cancel_marker, 0.0, threading.Event())
    assert not marked()
    files.cancel_marker.parent.mkdir(parents=True)
    files.cancel_marker.touch()
    assert marked() and marked.cancelled
    other = JobFiles.for_job(tmp_path, _job())
    other.folder.mkdir(parents=True)
    watching = StopCheck(other.cancel_marker, 0.0, threading.Event())
    watching.watch(other.folder)
    assert not watching()
    other.folder.rmdir()
    assert watching() and watching.gone and not watching.cancelled


def test_a_run_stopped_by_its_vanished_folder_is_a_storage_failure_not_a_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(
        work: Work, stages: Stages, tools: Toolbox, on_progress: OnProgress, should_stop: ShouldStop
    ) -> Result:
        shutil.rmtree(work.input.parent)  # the folder goes mid-run, with no marker
        assert should_stop()
        raise JobCancelled("stopped")

    monkeypatch.setattr(flight_module, "execute", run)
    flight = _flight(tmp_path, _job())
    flight.files.folder.mkdir(parents=True)
    flight.run(None, None, None, _ignore, guarded=False)  # type: ignore[arg-type]
    assert type(flight.error) is StorageError and flight.error.code == "job.files_gone"
    assert not flight.files.folder.exists()
