"""The jobs database on SQLite and on PostgreSQL (DATABASE_URL), through the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings, normalise_database_url
from contract.messages import DoneEvent, ProgressEvent
from tests.fixtures.backend import DATABASES, scrape


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    if request.param == "sqlite":
        return settings.DATABASE_URL
    return str(request.getfixturevalue("postgres_url"))


def test_job_lifecycle_persists(settings: Settings, database_url: str, clip: Path) -> None:
    settings.DATABASE_URL = database_url
    with TestClient(create_app(settings, broker=False)) as client, clip.open("rb") as handle:
        response = client.post(
            "/api/jobs", files={"file": ("a.mp4", handle, "video/mp4")}, data={"height": "720"}
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        owner_cookie = client.cookies[settings.OWNER_COOKIE]
        store = client.app.state.services.store  # type: ignore[attr-defined]
        assert store.unpublished() == [job_id]
        store.apply_event(ProgressEvent(job_id=job_id, frames_done=12, frames_total=25, fps=6.0))
        store.apply_event(ProgressEvent(job_id=job_id, frames_done=3, frames_total=25, fps=6.0))
        store.apply_event(
            DoneEvent(
                job_id=job_id,
                output_key=f"jobs/{job_id}/output.mp4",
                frames=25,
                width=880,
                height=720,
                seconds=4.0,
            )
        )
    # A fresh app on the same database (and secret) shows the same owner the same job.
    with TestClient(create_app(settings, broker=False)) as client:
        client.cookies.set(settings.OWNER_COOKIE, owner_cookie)
        job = client.get(f"/api/jobs/{job_id}").json()
        assert (job["status"], job["frames_done"], job["height"], job["fps"]) == ("done", 25, 720, 6.25)
        assert job["created_at"].endswith("Z")
        assert client.get("/api/config").json()["recent_fps"] == {"realesr-animevideov3-x4": 6.25}
        assert 'vsr_jobs{status="done"} 1.0' in scrape(client)
        assert client.get("/readyz").json()["database"] == "ok"
        assert client.delete(f"/api/jobs/{job_id}").status_code == 204
        assert client.get("/api/jobs").json() == []


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
