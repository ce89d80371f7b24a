"""Uploads are checked against what their video stream really holds, not what the header claims."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings
from tests.fixtures.api import job_dirs, problem
from tests.fixtures.backend import upload
from tests.fixtures.forged import forge_duration, long_mkv, unbounded_webm


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MKV holding 60 s (300 frames, a keyframe every 10 s) whose header says 1 s."""
    return forge_duration(long_mkv(tmp_path_factory.mktemp("forged") / "forged.mkv", seconds=60), 1.0)


def test_a_header_forged_long_upload_is_refused_and_leaves_nothing(settings: Settings, forged: Path) -> None:
    settings.MAX_DURATION_S = 10
    with TestClient(create_app(settings, broker=False)) as client:
        with forged.open("rb") as handle:
            response = client.post("/api/jobs", files={"file": ("f.mkv", handle, "video/x-matroska")})
        body = problem(response, 422, "media.too_long_in_stream")
        assert body["params"] == {"seconds": 10, "limit_s": 10}
        assert client.get("/api/jobs").json() == []
    assert job_dirs(settings) == []


def test_the_job_and_its_segments_use_the_counted_duration(settings: Settings, forged: Path) -> None:
    settings.SEGMENT_SECONDS = 20
    with TestClient(create_app(settings, broker=False)) as client:
        job = upload(client, forged, name="f.mkv")
        assert job["input"]["duration_s"] == pytest.approx(60.0)
        assert job["frames_total"] == 300
        store = client.app.state.services.store  # type: ignore[attr-defined]
        tasks = store.get(job["id"]).tasks
    # Keyframes every 10 s, 20 s segments: three segments, not the one task a 1 s header would give.
    assert [t.kind for t in tasks] == ["segment"] * 3
    assert sum(t.frames_total for t in tasks) == 300


def test_a_recording_without_a_duration_is_accepted(client: TestClient, tmp_path: Path) -> None:
    job = upload(client, unbounded_webm(tmp_path / "rec.webm", seconds=3), name="rec.webm")
    assert job["input"]["duration_s"] == pytest.approx(3.0) and job["frames_total"] == 15
