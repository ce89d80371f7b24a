"""Cancel and delete: database first, the adapters' marker outside the job folder, tombstones, full disks."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from datetime import timedelta
from pathlib import Path, PosixPath

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from backend.api.problems import install_error_handlers
from backend.intake import upload as upload_module
from backend.jobs import cancels
from backend.jobs import rules as jobs
from backend.jobs.db import Tombstone, make_engine, make_sessions, utcnow
from backend.jobs.store import JobStore
from backend.settings import Settings
from contract import storage
from contract.messages import DoneEvent, ProgressEvent
from tests.fixtures.api import job_dirs, problem
from tests.fixtures.backend import upload


class _FullPath(PosixPath):
    """A path on a volume with no inode left: creating the file fails as a full disk does."""

    def touch(self, mode: int = 0o666, exist_ok: bool = True) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))


def _database_full() -> OperationalError:
    """SQLite's error for a write on a full volume, as SQLAlchemy raises it."""
    return OperationalError("INSERT INTO jobs ...", {}, sqlite3.OperationalError("database or disk is full"))


def _marker(settings: Settings, job_id: str) -> Path:
    return storage.resolve(settings.STORAGE_ROOT, storage.cancel_key(job_id))


def _store(client: TestClient) -> JobStore:
    store: JobStore = client.app.state.services.store  # type: ignore[attr-defined]
    return store


def test_a_cancel_on_a_full_disk_still_commits_and_answers_200(
    client: TestClient, settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = upload(client, clip)
    _store(client).apply_event(ProgressEvent(job_id=job["id"], frames_done=5, frames_total=25, fps=5.0))
    monkeypatch.setattr(cancels, "marker_path", lambda root, job_id: _FullPath(root / "cancels" / job_id))
    with caplog.at_level(logging.WARNING, logger="backend.jobs.cancels"):
        response = client.delete(f"/api/jobs/{job['id']}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled", "the database is the truth"
    assert "cancel marker not written" in caplog.text
    assert not _marker(settings, job["id"]).exists()
    # The janitor's sync writes it once the disk has room again.
    monkeypatch.undo()
    assert cancels.sync_markers(_store(client), settings.STORAGE_ROOT) == 1
    assert _marker(settings, job["id"]).is_file()


def test_cancel_commits_before_the_marker_is_written(
    client: TestClient, settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = upload(client, clip)
    seen: list[str] = []
    write = cancels.write_marker

    def spy(root: Path, job_id: str) -> bool:
        seen.append(_store(client).get(job_id).status)  # type: ignore[union-attr]
        return write(root, job_id)

    monkeypatch.setattr(cancels, "write_marker", spy)
    assert client.delete(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"
    assert seen == ["cancelled"], "the marker was written before the cancel was committed"
    assert _marker(settings, job["id"]).is_file()


def test_deleting_leaves_a_tombstone_and_the_marker_and_late_events_change_nothing(
    client: TestClient, settings: Settings, clip: Path
) -> None:
    job = upload(client, clip)
    store = _store(client)
    assert client.delete(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert store.stopped_ids() == [job["id"]] and store.known_ids([job["id"], "f" * 32]) == {job["id"]}
    assert _marker(settings, job["id"]).is_file() and job_dirs(settings) == []
    late = DoneEvent(
        job_id=job["id"], output_key=storage.output_key(job["id"]),
        frames=25, width=64, height=48, seconds=1.0,
    )
    assert store.apply_event(late) is None and store.get(job["id"]) is None
    problem(client.get(f"/api/jobs/{job['id']}"), 404, "http.job_not_found")


@pytest.mark.parametrize("status", [jobs.QUEUED, jobs.RUNNING])
def test_the_store_deletes_an_active_job_and_its_tombstone_stops_it(
    client: TestClient, settings: Settings, clip: Path, status: str
) -> None:
    from backend.intake.creation import delete_job

    job = upload(client, clip)
    store = _store(client)
    if status == jobs.RUNNING:
        store.apply_event(ProgressEvent(job_id=job["id"], frames_done=5, frames_total=25, fps=5.0))
    assert store.get(job["id"]).status == status  # type: ignore[union-attr]
    assert delete_job(client.app.state.services, job["id"])  # type: ignore[attr-defined]
    assert store.get(job["id"]) is None and store.stopped_ids() == [job["id"]]
    assert _marker(settings, job["id"]).is_file() and job_dirs(settings) == []
    assert not delete_job(client.app.state.services, job["id"])  # type: ignore[attr-defined]


def test_sync_writes_only_the_markers_of_cancelled_and_deleted_jobs(
    client: TestClient, settings: Settings, clip: Path
) -> None:
    queued, cancelled, deleted = (upload(client, clip)["id"] for _ in range(3))
    client.delete(f"/api/jobs/{cancelled}")
    client.delete(f"/api/jobs/{deleted}")
    client.delete(f"/api/jobs/{deleted}")
    for path in storage.resolve(settings.STORAGE_ROOT, storage.CANCELS_DIR).iterdir():
        path.unlink()
    assert cancels.sync_markers(_store(client), settings.STORAGE_ROOT) == 2
    assert _marker(settings, cancelled).is_file() and _marker(settings, deleted).is_file()
    assert not _marker(settings, queued).exists()
    assert cancels.sync_markers(_store(client), settings.STORAGE_ROOT) == 0


def test_expiry_drops_old_tombstones_with_their_markers_and_old_strays_only(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    store = JobStore(sessions)
    root = tmp_path / "storage"
    old, young, stray_old, stray_young = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)
    with sessions() as session, session.begin():
        session.add(Tombstone(job_id=old, owner="o", deleted_at=utcnow() - timedelta(days=8)))
        session.add(Tombstone(job_id=young, owner="o", deleted_at=utcnow() - timedelta(days=1)))
    for job_id in (old, young, stray_old, stray_young):
        assert cancels.write_marker(root, job_id)
    week = 7 * 24 * 3600
    aged = time.time() - week - 60
    os.utime(cancels.marker_path(root, stray_old), (aged, aged))
    assert cancels.expire_markers(store, root, week) == 2
    left = sorted(path.name for path in (root / storage.CANCELS_DIR).iterdir())
    assert left == [young, stray_young]
    assert store.stopped_ids() == [young]
    engine.dispose()


def test_a_full_disk_at_the_last_flush_of_an_upload_is_507_and_leaves_nothing(
    client: TestClient, settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_close(self: upload_module._Receiver) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
            raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(upload_module._Receiver, "close", full_close)
    with clip.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
    problem(response, 507, "http.storage_full")
    assert job_dirs(settings) == [] and client.get("/api/jobs").json() == []


def test_any_request_whose_storage_write_hits_a_full_disk_is_507_other_os_errors_stay_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/full")
    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    @app.get("/denied")
    def denied() -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    @app.get("/database-full")
    def database_full() -> None:
        raise _database_full()

    @app.get("/database-down")
    def database_down() -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file"))

    with TestClient(app, raise_server_exceptions=False) as client:
        problem(client.get("/full"), 507, "http.disk_full")
        problem(client.get("/database-full"), 507, "http.disk_full")
        assert client.get("/denied").status_code == 500
        assert client.get("/database-down").status_code == 500


def test_a_full_database_during_upload_is_507_and_leaves_no_file(
    client: TestClient, settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_job: object) -> None:
        raise _database_full()

    monkeypatch.setattr(_store(client), "add", full)
    with clip.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
    problem(response, 507, "http.disk_full")
    assert job_dirs(settings) == []
