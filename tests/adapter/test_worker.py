"""Worker against the real RabbitMQ (a throw-away vhost) with a fake pipeline function injected.

The fake pipeline reads its behaviour from the input file, so it behaves the same in the worker's
job thread, in a guarded child process and in a separate worker process.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from adapter.errors import (
    InvalidInputError,
    JobCancelled,
    ProcessCrashedError,
)
from adapter.job import GuardedJob, Work
from adapter.worker.consumer import Worker
from adapter.worker.guard import run_guarded
from adapter.worker.queue import REASON_HEADER, RetryPolicy
from contract import limits, storage, topology
from contract.messages import JobMessage, JobOptions, parse_event
from tests.fixtures.worker import (
    NOT_A_VIDEO,
    SOUNDTRACK_BAD,
    STAGES,
    STORAGE_DOWN,
    TRITON_DOWN,
    Broker,
    FileHealth,
    attempts,
    cancel,
    events_of,
    make_job,
    outcomes,
    rabbitmqctl,
)

if TYPE_CHECKING:
    pass

# ---- tests ---------------------------------------------------------------------------------------------

pytestmark = pytest.mark.rabbitmq


def test_done_job_stores_output_publishes_done_and_acks(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 25, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    events = broker.wait_events(lambda seen: bool(events_of(seen, "done")), [])
    running.stop()
    done = events_of(events, "done")[0]
    assert (done.job_id, done.frames, done.width, done.height) == (job.job_id, 25, 128, 96)
    assert done.preview_before_key == storage.preview_key(job.job_id, "before")
    output = storage.resolve(tmp_path, job.output_key)
    assert output.read_bytes().count(b"\n") == 25
    assert not list(output.parent.glob(".*.part.*"))
    progress = events_of(events, "progress")
    assert 1 <= len(progress) <= 4, "progress is limited to about one event a second"
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(progress)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert broker.ready(topology.TASKS_QUEUE) == 0, "the task was acked"
    assert outcomes(running.worker, "done") == 1


def test_permanent_error_dead_letters_with_failed_event(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "permanent"})
    broker.publish(job.model_dump_json().encode())
    failed = events_of(broker.wait_events(lambda seen: bool(events_of(seen, "failed")), []), "failed")[0]
    assert failed.job_id == job.job_id and failed.reason == str(NOT_A_VIDEO) and failed.permanent
    dead = broker.wait_take(topology.DEAD_QUEUE)
    assert dead[0].headers[REASON_HEADER] == str(NOT_A_VIDEO)
    assert JobMessage.model_validate_json(dead[1]) == job
    running.stop()
    assert broker.ready(topology.TASKS_QUEUE) == 0
    assert len(attempts(tmp_path, job)) == 1


def test_transient_error_is_retried_after_a_delay_then_failed_at_the_limit(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    running = start(retry=RetryPolicy(attempts=3, min_s=2, max_s=4))
    job = make_job(tmp_path, {"mode": "transient"})
    broker.publish(job.model_dump_json().encode())
    events = broker.wait_events(lambda seen: bool(events_of(seen, "failed")), [], timeout=60)
    failed = events_of(events, "failed")
    assert len(failed) == 1
    assert failed[0].reason == f"{STORAGE_DOWN} Gave up after 3 attempts."
    retries = events_of(events, "retry")
    assert [(r.attempt, r.attempts, r.infra) for r in retries] == [(2, 3, False), (3, 3, False)]
    assert all(r.delay_s in (2, 4) and r.code == STORAGE_DOWN.code for r in retries)
    runs = [float(line.split()[1]) for line in attempts(tmp_path, job)]
    assert len(runs) == 3
    # Each retry waited in its retry queue at least its delay (not an instant requeue).
    for (before, after), retry in zip(itertools.pairwise(runs), retries, strict=True):
        assert after - before >= retry.delay_s * 0.9, (runs, retries)
    dead = broker.wait_take(topology.DEAD_QUEUE)
    assert "Gave up" in dead[0].headers[REASON_HEADER]
    assert topology.ATTEMPT_HEADER in dead[0].headers, "the dead-lettered task is the last retry's copy"
    running.stop()
    assert broker.ready(topology.TASKS_QUEUE) == 0
    assert outcomes(running.worker, "retried") == 2


def test_worker_waits_for_the_model_before_consuming_and_resumes_when_ready(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    health = FileHealth(tmp_path)
    health.down.write_text("")
    running = start(health=health, reconnect_min_s=0.1, reconnect_max_s=0.5)
    job = make_job(tmp_path, {"mode": "ok", "frames": 3})
    broker.publish(job.model_dump_json().encode())
    deadline = time.monotonic() + 10
    while health.looks < 3:  # it looked, again and again, and did not consume meanwhile
        assert time.monotonic() < deadline, "the worker stopped looking at the model's readiness"
        time.sleep(0.05)
    assert not running.worker.ready() and not running.worker.consuming.is_set()
    assert broker.ready(topology.TASKS_QUEUE, expect=1) == 1, "the task waits in the queue"
    assert attempts(tmp_path, job) == []
    health.down.unlink()
    events = broker.wait_events(lambda seen: bool(events_of(seen, "done")), [])
    assert running.worker.ready()
    running.stop()
    assert len(events_of(events, "done")) == 1 and not events_of(events, "failed")


def test_model_outage_mid_job_pauses_the_worker_and_retries_without_an_attempt(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    health = FileHealth(tmp_path)
    policy = RetryPolicy(attempts=1, min_s=2, max_s=2)  # one attempt: an outage must not use it up
    running = start(health=health, retry=policy, reconnect_min_s=0.1, reconnect_max_s=0.5)
    job = make_job(tmp_path, {"mode": "model", "frames": 3})
    health.down.write_text("")
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda s: bool(events_of(s, "retry")), [])
    retry = events_of(seen, "retry")[0]
    assert (retry.attempt, retry.attempts, retry.infra, retry.delay_s) == (1, 1, True, 2)
    assert retry.code == TRITON_DOWN.code
    assert not running.worker.consuming.is_set(), "the worker stopped taking tasks"
    # The retried copy comes back after its delay and waits in the queue: nobody takes it meanwhile.
    assert broker.ready(topology.TASKS_QUEUE, expect=1, timeout=30) == 1
    assert len(attempts(tmp_path, job)) == 1 and not running.worker.ready()
    health.down.unlink()
    events = broker.wait_events(lambda s: bool(events_of(s, "done")), seen, timeout=30)
    running.stop()
    assert len(events_of(events, "done")) == 1 and not events_of(events, "failed")
    assert len(attempts(tmp_path, job)) == 2
    assert outcomes(running.worker, "model_wait") == 1


def test_bad_messages_are_dead_lettered_with_a_reason(broker: Broker, start: Any, tmp_path: Path) -> None:
    start()
    broker.publish(b"{not json")
    job_id = uuid.uuid4().hex
    escaping = {
        "job_id": job_id,
        "input_key": f"jobs/{job_id}/../../../etc/passwd",
        "output_key": f"jobs/{job_id}/output.mp4",
    }
    broker.publish(json.dumps(escaping).encode())
    failed = events_of(broker.wait_events(lambda seen: bool(events_of(seen, "failed")), []), "failed")
    assert failed[0].job_id == job_id and "unsafe storage key" in failed[0].reason
    reasons: list[str] = []
    deadline = time.monotonic() + 10
    while len(reasons) < 2 and time.monotonic() < deadline:
        got = broker.take(topology.DEAD_QUEUE)
        if got is not None:
            reasons.append(got[0].headers[REASON_HEADER])
    assert any("Malformed task message" in r for r in reasons), reasons
    assert any("unsafe storage key" in r for r in reasons), reasons


def test_close_all_connections_mid_job_reconnects_and_completes(
    broker: Broker, vhost: str, start: Any, tmp_path: Path
) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 30, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    rabbitmqctl("close_all_connections", "--vhost", vhost, "test")
    broker.close()
    broker.reconnect()  # our own connection was closed too
    events = broker.wait_events(lambda s: bool(events_of(s, "done")), seen, timeout=30)
    assert len(events_of(events, "done")) == 1
    assert len(attempts(tmp_path, job)) == 2, "the lost delivery was redelivered and run again"
    output = storage.resolve(tmp_path, job.output_key)
    assert output.read_bytes().count(b"\n") == 30
    assert not list(output.parent.glob(".*.part.*"))
    running.stop()
    assert (running.worker.metrics.registry.get_sample_value("vsr_adapter_reconnects_total") or 0) >= 1
    assert broker.ready(topology.TASKS_QUEUE) == 0


def test_cancel_marker_stops_the_job_within_5_seconds(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 300, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    cancel(tmp_path, job)
    start_t = time.monotonic()
    while outcomes(running.worker, "cancelled") < 1:
        assert time.monotonic() - start_t < 15, "job did not stop within 5 s (× 3 slack for slow hosts)"
        time.sleep(0.05)
    running.stop()
    job_dir = storage.resolve(tmp_path, storage.job_dir(job.job_id))
    assert not (job_dir / "output.mp4").exists()
    assert not list(job_dir.glob(".*.part.*")), "partial files are removed"
    # stop() has returned, so every event the worker sent is confirmed in the queue: take them all.
    events = list(seen)
    while (got := broker.take(topology.EVENTS_QUEUE)) is not None:
        events.append(parse_event(got[1]))
    assert events_of(events, "progress") and not events_of(events, "done") and not events_of(events, "failed")
    assert broker.ready(topology.TASKS_QUEUE) == 0 and broker.ready(topology.DEAD_QUEUE) == 0


def test_job_cancelled_while_queued_is_acked_without_running(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    job = make_job(tmp_path, {"mode": "ok"})
    cancel(tmp_path, job)
    running = start()
    broker.publish(job.model_dump_json().encode())
    deadline = time.monotonic() + 10
    while outcomes(running.worker, "cancelled") < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    running.stop()
    assert attempts(tmp_path, job) == []
    assert broker.ready(topology.TASKS_QUEUE) == 0


def _events_after_stop(broker: Broker, seen: list[Any]) -> list[Any]:
    """Every event the worker sent (stop() has returned, so they are all confirmed in the queue)."""
    events = list(seen)
    while (got := broker.take(topology.EVENTS_QUEUE)) is not None:
        events.append(parse_event(got[1]))
    return events


def _wait_outcome(worker: Worker, outcome: str, timeout: float) -> float:
    """Seconds until the worker settled a delivery with ``outcome`` (fails after ``timeout``)."""
    start_t = time.monotonic()
    while outcomes(worker, outcome) < 1:
        assert time.monotonic() - start_t < timeout, f"no {outcome} delivery within {timeout} s"
        time.sleep(0.02)
    return time.monotonic() - start_t


def test_cancel_then_delete_of_a_running_job_stops_it_within_2_seconds_and_its_folder_stays_gone(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    running = start(cancel_poll_s=0.5)
    job = make_job(tmp_path, {"mode": "ok", "frames": 300, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    job_dir = storage.resolve(tmp_path, storage.job_dir(job.job_id))
    cancel(tmp_path, job)  # what the backend does: the marker, then the job's files go
    shutil.rmtree(job_dir)
    # 2 s for the poll (0.5 s) and the job's next stop check, ×3 slack for a loaded host.
    assert _wait_outcome(running.worker, "cancelled", 6) < 6
    running.stop()
    assert not job_dir.exists(), "the stopped run re-created the deleted job's folder"
    events = _events_after_stop(broker, seen)
    assert not events_of(events, "done") and not events_of(events, "failed")
    assert broker.ready(topology.TASKS_QUEUE) == 0 and broker.ready(topology.DEAD_QUEUE) == 0


def test_a_deleted_queued_job_is_acked_without_touching_storage(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    job = make_job(tmp_path, {"mode": "ok", "frames": 5})
    cancel(tmp_path, job)
    shutil.rmtree(storage.resolve(tmp_path, storage.job_dir(job.job_id)))
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    running = start()
    broker.publish(job.model_dump_json().encode())
    _wait_outcome(running.worker, "cancelled", 10)
    running.stop()
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before, "storage was touched"
    assert _events_after_stop(broker, []) == []
    assert broker.ready(topology.TASKS_QUEUE) == 0 and broker.ready(topology.DEAD_QUEUE) == 0


def test_a_job_whose_folder_vanishes_without_a_marker_stops_and_is_retried_not_dropped(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    # A delete on a full disk may leave no marker, or the storage itself failed: the run stops at once,
    # but as a storage failure (retried, then failed with a reason), never as a silent cancel.
    running = start(cancel_poll_s=0.5)
    job = make_job(tmp_path, {"mode": "ok", "frames": 300, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    job_dir = storage.resolve(tmp_path, storage.job_dir(job.job_id))
    shutil.rmtree(job_dir)
    assert _wait_outcome(running.worker, "retried", 6) < 6
    assert outcomes(running.worker, "cancelled") == 0
    assert broker.ready(topology.DEAD_QUEUE, expect=1, timeout=30) == 1, "the retries did not end"
    running.stop()
    assert not job_dir.exists(), "a retry re-created the vanished job's folder"
    events = _events_after_stop(broker, seen)
    assert not events_of(events, "done") and len(events_of(events, "failed")) == 1


def test_stop_without_grace_requeues_the_running_job(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 300, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    t0 = time.monotonic()
    running.stop(grace_s=0)
    assert time.monotonic() - t0 < 15  # at once, with 3× slack on the 5 s it must stay under
    assert broker.ready(topology.TASKS_QUEUE, expect=1) == 1, "the job went back to the queue"
    assert outcomes(running.worker, "requeued") == 1


def test_stop_with_grace_finishes_the_running_job(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 20, "frame_s": 0.1})
    broker.publish(job.model_dump_json().encode())
    seen = broker.wait_events(lambda seen: bool(events_of(seen, "progress")), [])
    running.stop(grace_s=30)
    assert len(events_of(broker.wait_events(lambda s: bool(events_of(s, "done")), seen), "done")) == 1
    assert broker.ready(topology.TASKS_QUEUE) == 0


# ---- audio description stages -------------------------------------------------------------------------


def test_upscale_then_describe_commits_video_and_vtt(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start(progress_interval_s=0)
    job = make_job(tmp_path, {"mode": "ok", "frames": 10, "frame_s": 0.02, "step_s": 0.05}, describe="ru")
    broker.publish(job.model_dump_json().encode())
    events = broker.wait_events(lambda seen: bool(events_of(seen, "done")), [])
    running.stop()
    done = events_of(events, "done")[0]
    assert done.vtt_key == storage.vtt_key(job.job_id)
    assert (done.frames, done.width, done.height) == (10, 128, 96)
    folder = storage.resolve(tmp_path, storage.job_dir(job.job_id))
    assert (folder / "output.mp4").read_bytes().endswith(b"frame9\ndescribed ru\n")
    assert (folder / "output.vtt").read_text() == "WEBVTT\n"
    assert (folder / "described").read_text().startswith(".upscaled."), "the upscaled video is described"
    assert not list(folder.glob(".*")), "no partial or intermediate files are left"
    progress = [(e.frames_done, e.frames_total) for e in events_of(events, "progress")]
    assert [d for d, _ in progress] == sorted(d for d, _ in progress), "progress never goes back"
    assert {t for _, t in progress} == {10}
    assert max(d for d, _ in progress if d <= 8) == 8, "upscaling fills 80 % of the bar"
    assert max(d for d, _ in progress) == 10, "the description fills the rest"


def test_describe_only_leaves_the_video_alone(broker: Broker, start: Any, tmp_path: Path) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 7}, upscale=False, describe="en")
    broker.publish(job.model_dump_json().encode())
    done = events_of(broker.wait_events(lambda seen: bool(events_of(seen, "done")), []), "done")[0]
    running.stop()
    assert (done.frames, done.width, done.height) == (7, 64, 48), "the input's own size"
    assert done.vtt_key == storage.vtt_key(job.job_id)
    assert done.preview_before_key is None and done.preview_after_key is None
    assert attempts(tmp_path, job) == [], "the upscaling pipeline did not run"
    output = storage.resolve(tmp_path, job.output_key)
    assert output.read_bytes().endswith(b"described en\n")


def test_description_of_bad_input_fails_permanently_and_cleans_up(
    broker: Broker, start: Any, tmp_path: Path
) -> None:
    running = start()
    job = make_job(tmp_path, {"mode": "ok", "frames": 3, "describe": "permanent"}, describe="ru")
    broker.publish(job.model_dump_json().encode())
    failed = events_of(broker.wait_events(lambda seen: bool(events_of(seen, "failed")), []), "failed")[0]
    running.stop()
    assert failed.permanent and failed.reason == str(SOUNDTRACK_BAD)
    dead = broker.wait_take(topology.DEAD_QUEUE)
    assert dead[0].headers[REASON_HEADER] == str(SOUNDTRACK_BAD)
    folder = storage.resolve(tmp_path, storage.job_dir(job.job_id))
    assert sorted(p.name for p in folder.iterdir()) == ["attempts", "described", "input.mp4"]


# ---- crashes: the worker runs as its own process, restarted like a supervisor would ------------------


@pytest.mark.slow
def test_poison_input_that_kills_the_worker_ends_failed_in_the_dlq(broker: Broker, tmp_path: Path) -> None:
    job = make_job(tmp_path, {"mode": "crash"})
    broker.publish(job.model_dump_json().encode())
    code = f"from tests.fixtures.worker import serve; serve({broker.url!r}, {str(tmp_path)!r})"
    restarts = 0
    events: list[Any] = []
    deadline = time.monotonic() + 90
    while not events_of(events, "failed"):
        assert time.monotonic() < deadline, events
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
        try:
            while proc.poll() is None and not events_of(events, "failed"):
                got = broker.take(topology.EVENTS_QUEUE)
                if got is not None:
                    events.append(parse_event(got[1]))
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
            else:
                restarts += 1
    failed = events_of(events, "failed")[0]
    assert failed.job_id == job.job_id and "Processing crashed (killed by SIGKILL)" in failed.reason
    assert restarts == topology.DELIVERY_LIMIT - 1, "guarded deliveries do not take the worker down"
    assert len(attempts(tmp_path, job)) == limits.TASK_ATTEMPTS, "crash redeliveries count as attempts"
    dead = broker.wait_take(topology.DEAD_QUEUE)
    assert "crashed" in dead[0].headers[REASON_HEADER]


def _guarded(
    tmp_path: Path, plan: dict[str, Any], stop: Callable[[], bool] = lambda: False, **options: Any
) -> Any:
    source = tmp_path / "input.mp4"
    source.write_text(json.dumps(plan))
    progress: list[Any] = []
    work = Work(
        source,
        tmp_path / "out.mp4",
        (tmp_path / "a.jpg", tmp_path / "b.jpg"),
        tmp_path / "up.mp4",
        JobOptions(**options),
    )
    result = run_guarded(GuardedJob(work, STAGES), progress.append, stop)
    return result, progress


def test_guarded_run_returns_result_and_forwards_progress(tmp_path: Path) -> None:
    result, progress = _guarded(tmp_path, {"mode": "ok", "frames": 3})
    assert (result.frames, result.width, result.height, result.vtt) == (3, 128, 96, None)
    assert [p.frames_done for p in progress] == [1, 2, 3]
    assert (tmp_path / "out.mp4").read_bytes().count(b"\n") == 3


def test_guarded_run_does_both_stages_in_the_child(tmp_path: Path) -> None:
    result, progress = _guarded(tmp_path, {"mode": "ok", "frames": 10}, describe="en")
    assert result.vtt == tmp_path / "out.vtt" and result.vtt.read_text() == "WEBVTT\n"
    assert (tmp_path / "out.mp4").read_bytes().endswith(b"frame9\ndescribed en\n")
    assert not (tmp_path / "up.mp4").exists(), "the intermediate is removed"
    assert [p.frames_done for p in progress][-1] == 10


def test_guarded_run_turns_a_dead_child_into_a_crash_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessCrashedError, match="SIGKILL"):
        _guarded(tmp_path, {"mode": "crash"})


def test_guarded_run_passes_job_errors_and_stops(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no video stream"):
        _guarded(tmp_path, {"mode": "permanent"})
    with pytest.raises(JobCancelled):
        _guarded(tmp_path, {"mode": "ok", "frames": 1000, "frame_s": 0.05}, stop=lambda: True)
