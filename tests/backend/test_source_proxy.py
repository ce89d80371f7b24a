"""The «before» proxy end to end: a real upload, the adapter's real task on its message, the route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapter.job import Stages, Toolbox
from adapter.video import pipeline
from adapter.video.stages import Progress
from adapter.worker.flight import Flight, StopCheck
from adapter.worker.workspace import JobFiles
from backend.app import create_app
from backend.dispatch.outbox import task_message
from backend.settings import Settings
from tests.fixtures.api import problem
from tests.fixtures.backend import upload
from tests.fixtures.creators import PROXY_OPTIONS as OPTIONS
from tests.fixtures.creators import mpeg2_ps
from tests.fixtures.media import ffprobe
from tests.fixtures.worker import fake_upscaler

STAGES = Stages(run_pipeline=pipeline.run, make_upscaler=fake_upscaler)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    made = create_app(settings, broker=False)
    with TestClient(made):
        yield made


def _ignore(_item: Progress, /) -> None:
    return None


def test_an_mpeg2_upload_gets_a_proxy_its_owner_alone_can_play(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    owner, stranger = TestClient(app), TestClient(app)
    made = upload(owner, mpeg2_ps(tmp_path / "dvd.mpg"), name="dvd.mpg", model=OPTIONS.model, scale="2")
    assert made["source_proxy_url"] is None  # nothing until the job is done
    store = app.state.services.store
    message = task_message(store.get(made["id"]))
    files = JobFiles.for_job(settings.STORAGE_ROOT, message)
    stop = StopCheck(files.cancel_marker, 0.01, threading.Event())
    flight = Flight(1, b"", pika.BasicProperties(), message, 0, files, stop, threading.Event())
    flight.run(STAGES, Toolbox(STAGES), None, _ignore, guarded=False)
    event = flight.done_event()
    assert flight.error is None and event is not None
    store.apply_event(event)

    job = owner.get(f"/api/jobs/{made['id']}").json()
    assert job["status"] == "done" and job["source_proxy_url"] == f"/api/jobs/{made['id']}/source/proxy"
    whole = owner.get(job["source_proxy_url"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    played = tmp_path / "played.mp4"
    played.write_bytes(whole.content)
    assert [s["codec_name"] for s in ffprobe(played)["streams"]] == ["h264", "aac"]
    part = owner.get(job["source_proxy_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == whole.content[:100]
    foreign = problem(stranger.get(job["source_proxy_url"]), 404, "http.job_not_found")
    assert foreign == problem(stranger.get("/api/jobs/" + "0" * 32 + "/source/proxy"), 404)
