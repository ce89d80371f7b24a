"""Retries in the job record (RetryEvent → job columns → job JSON) and /readyz's model-server check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api.ops import model_server
from backend.api.schemas import job_out
from backend.app import create_app
from backend.jobs import rules as jobs
from backend.jobs.db import Job, Task
from backend.settings import Settings
from contract.catalogue import reason
from contract.messages import ProgressEvent, RetryEvent, parse_event
from devops.readiness import free_port
from tests.fixtures.backend import wait_for
from tests.fixtures.broker import published_upload, send_events
from tests.fixtures.jobs import JOB_ID, T0, new_job, progress

STORAGE_DOWN = reason("job.preview_not_written")
TS = T0.timestamp()


def retry(attempt: int = 2, delay_s: float = 8, ts: float = TS, **fields: object) -> RetryEvent:
    event = RetryEvent.from_reason(JOB_ID, STORAGE_DOWN, attempt=attempt, attempts=5, delay_s=delay_s)
    return event.model_copy(update={"ts": ts, **fields})


def test_retry_event_round_trips_through_the_event_parser() -> None:
    event = retry()
    assert parse_event(event.model_dump_json().encode()) == event


def test_a_retry_puts_the_running_job_back_in_the_queue_with_attempt_time_and_reason() -> None:
    job = new_job()
    assert jobs.apply_progress(job, progress(40), T0)
    assert jobs.apply_retry(job, retry(), T0)
    assert job.status == jobs.QUEUED and (job.attempt, job.attempts) == (2, 5)
    assert job.retry_at == datetime.fromtimestamp(TS + 8, UTC)
    assert (job.retry_code, job.retry_params, job.retry_error) == (STORAGE_DOWN.code, {}, str(STORAGE_DOWN))
    # Issue 26: the bar and the frame count start again together (never «43 % · кадр 0 из 75»).
    assert job.progress == 0.0 and job.frames_done == 0, "the retry is a new run from frame 0"
    shown = job_out(job, lambda _j, _w: False).retry
    assert shown is not None and (shown.attempt, shown.of, shown.infra) == (2, 5, False)
    assert shown.code == STORAGE_DOWN.code
    assert shown.at == datetime.fromtimestamp(TS + 8, UTC) and shown.detail == str(STORAGE_DOWN)


def test_progress_after_the_retry_time_starts_it_and_hides_the_retry() -> None:
    job = new_job(jobs.RUNNING)
    jobs.apply_retry(job, retry(delay_s=8), T0)
    early = ProgressEvent(job_id=JOB_ID, frames_done=5, frames_total=100, fps=10.0, ts=TS + 1)
    assert jobs.apply_progress(job, early, T0) and job.retry_at is not None, "a late event of the old try"
    later = ProgressEvent(job_id=JOB_ID, frames_done=10, frames_total=100, fps=10.0, ts=TS + 9)
    assert jobs.apply_progress(job, later, T0)
    assert job.status == jobs.RUNNING and job.retry_at is None and job.frames_done == 10
    assert job_out(job, lambda _j, _w: False).retry is None
    assert job.attempt == 2, "the attempt stays on record"


def test_a_model_server_wait_is_shown_as_such_and_finished_jobs_ignore_retries() -> None:
    job = new_job(jobs.RUNNING)
    down = RetryEvent.from_reason(
        JOB_ID, reason("job.triton_unreachable", url="t:8001"), attempt=1, attempts=5, delay_s=4, infra=True
    )
    assert jobs.apply_retry(job, down, T0)
    shown = job_out(job, lambda _j, _w: False).retry
    assert shown is not None and shown.infra and shown.params == {"url": "t:8001"}
    done = new_job(jobs.DONE)
    assert not jobs.apply_retry(done, retry(), T0) and done.retry_at is None


def test_a_retried_segment_waits_while_the_job_keeps_running() -> None:
    job = new_job(jobs.RUNNING)
    job.tasks = [Task(job_id=JOB_ID, index=i, kind="segment", count=2, status=jobs.RUNNING) for i in (0, 1)]
    assert jobs.apply_retry(job, retry(segment=1), T0)
    assert [t.status for t in job.tasks] == [jobs.RUNNING, jobs.QUEUED]
    assert job.status == jobs.RUNNING and job.retry_at is not None


@pytest.mark.rabbitmq
def test_retry_event_from_the_broker_lands_in_the_job_json(
    settings: Settings, amqp_url: str, clip: Path
) -> None:
    with published_upload(settings, amqp_url, clip) as (client, _store, job_id):
        event = RetryEvent.from_reason(job_id, STORAGE_DOWN, attempt=2, attempts=5, delay_s=8)
        send_events(amqp_url, event.model_dump_json().encode())
        wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["retry"] is not None, what="the retry")
        body = client.get(f"/api/jobs/{job_id}").json()
        assert body["status"] == "queued"
        assert body["retry"]["attempt"] == 2 and body["retry"]["of"] == 5
        assert body["retry"]["code"] == STORAGE_DOWN.code and body["retry"]["detail"] == str(STORAGE_DOWN)
        at = datetime.fromisoformat(body["retry"]["at"])
        assert abs(at.timestamp() - (event.ts + 8)) < 1


# ---- /readyz and the model server ----------------------------------------------------------------------


class _Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def model_url() -> Iterator[tuple[str, type[_Ready]]]:
    handler = type("Handler", (_Ready,), {"status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/health/ready", handler
    server.shutdown()
    server.server_close()


def test_model_server_check_says_ok_not_ready_or_unavailable(model_url: tuple[str, type[_Ready]]) -> None:
    url, handler = model_url
    assert model_server(url) == "ok"
    handler.status = 503
    assert model_server(url) == "not ready: HTTP 503"
    started = time.monotonic()
    assert model_server(f"http://127.0.0.1:{free_port()}/v2/health/ready").startswith("unavailable")
    assert time.monotonic() - started < 5


def test_readyz_reports_the_model_server(settings: Settings, model_url: tuple[str, type[_Ready]]) -> None:
    url, handler = model_url
    settings.MODEL_READY_URL = url
    with TestClient(create_app(settings, broker=False)) as client:
        assert client.get("/readyz").json()["model"] == "ok"
        handler.status = 503
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["model"] == "not ready: HTTP 503"
        # The probe that routes users here: the API still serves (uploads wait), the model is reported.
        serving = client.get("/readyz", params={"serving": "true"})
        assert serving.status_code == 200 and serving.json() == {
            "ready": False,
            "database": "ok",
            "broker": "disabled",
            "model": "not ready: HTTP 503",
        }
    settings.MODEL_READY_URL = ""
    with TestClient(create_app(settings, broker=False)) as client:
        assert "model" not in client.get("/readyz").json(), "no URL: not checked"


def test_job_json_has_no_retry_for_a_fresh_job() -> None:
    job: Job = new_job()
    assert job_out(job, lambda _j, _w: False).retry is None
