"""Queue places (backend.dispatch.places): position in the fair line and the start estimate; the job JSON's
queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from backend.dispatch.places import TASK_OVERHEAD_S, Place, places
from backend.jobs import rules as jobs
from backend.jobs.db import Job, Speed, make_engine, make_sessions
from backend.settings import Settings
from tests.fixtures.backend import upload
from tests.fixtures.jobs import T0, new_job, segmented

MODEL = "realesr-animevideov3-x4"


def job(name: str, owner: str, at: float, *, status: str = jobs.QUEUED, published: bool = False) -> Job:
    made = new_job(status)
    made.id = name.ljust(32, "0")
    made.owner, made.published = owner, published
    made.created_at = made.updated_at = T0 + timedelta(seconds=at)
    made.published_at = made.created_at if published else None
    made.frames_total = made.input_frames = 100
    return made


def test_ready_tasks_come_first_then_the_fair_order_with_the_estimate() -> None:
    running = job("a0", "A", 0, status=jobs.RUNNING, published=True)
    running.eta_s = 10.0
    ready = job("a1", "A", 1, published=True)
    waiting = [job("a2", "A", 2), job("a3", "A", 3), job("b1", "B", 50)]
    waiting[2].frames_total = 50
    found = places([running, ready, *waiting], {"A": [T0]}, {}, adapters=1, fps={MODEL: 25.0})
    cost = TASK_OVERHEAD_S
    assert found == {
        ready.id: Place(1, 10),
        waiting[2].id: Place(2, round(10 + 4 + cost)),  # B, never served, before A's next
        waiting[0].id: Place(3, round(10 + 4 + cost + 2 + cost)),
        waiting[1].id: Place(4, round(10 + 4 + cost + 2 + cost + 4 + cost)),
    }
    assert running.id not in found, "a running job has no place"


def test_published_tasks_beyond_the_ready_count_are_already_with_an_adapter() -> None:
    taken = job("a1", "A", 1, published=True)  # delivered; its adapter has not reported progress yet
    ready = job("a2", "A", 2, published=True)
    ready.published_at = T0 + timedelta(seconds=3)
    newcomer = job("b1", "B", 50)
    found = places([taken, ready, newcomer], {"A": [T0]}, {}, adapters=1, fps={MODEL: 25.0}, ready=1)
    assert taken.id not in found
    assert found[ready.id] == Place(1, round(4 + TASK_OVERHEAD_S))
    assert found[newcomer.id].position == 2
    unknown = places([taken, ready, newcomer], {"A": [T0]}, {}, adapters=1, fps={}, ready=None)
    assert [unknown[j.id].position for j in (taken, ready, newcomer)] == [1, 2, 3]


def test_several_adapters_share_the_line() -> None:
    line = [job(f"a{i}", "A", i) for i in range(4)]
    found = places(line, {}, {}, adapters=2, fps={MODEL: 50.0})
    per_task = 100 / 50 + TASK_OVERHEAD_S
    assert [found[j.id].starts_in_s for j in line] == [0, 0, round(per_task), round(per_task)]


def test_a_segmented_job_waits_for_its_first_segment_and_other_models_borrow_a_speed() -> None:
    long = segmented()
    long.owner, long.published, long.created_at = "C", False, T0
    for task in long.tasks:
        task.published = False
    other = job("b1", "B", 1)
    other.model = "realesrgan-x4plus"  # never measured: the mean of the measured ones
    found = places([long, other], {}, {}, adapters=1, fps={MODEL: 25.0})
    assert found[long.id].position == 1 and found[other.id].position == 2
    assert found[other.id].starts_in_s == round(long.tasks[0].frames_total / 25 + TASK_OVERHEAD_S)


def test_no_measured_speed_gives_a_place_without_a_time() -> None:
    found = places([job("a1", "A", 0), job("a2", "A", 1)], {}, {}, adapters=0, fps={})
    assert [p.position for p in found.values()] == [1, 2]
    assert {p.starts_in_s for p in found.values()} == {None}


def test_the_job_json_shows_the_place_only_while_waiting(
    client: TestClient, clip: Path, settings: Settings
) -> None:
    first = upload(client, clip, scale="2")
    second = upload(client, clip, scale="2")
    assert first["queue"] == {"position": 1, "starts_in_s": None}, "no speed measured yet"
    assert second["queue"]["position"] == 2
    engine = make_engine(settings.DATABASE_URL)
    with make_sessions(engine)() as session, session.begin():  # a finished job's speed sample
        session.add(Speed(model=MODEL, fps=50.0))
    engine.dispose()
    listed = {j["id"]: j["queue"] for j in client.get("/api/jobs").json()}
    assert listed[first["id"]]["starts_in_s"] == 0 and listed[second["id"]]["starts_in_s"] > 0
    client.delete(f"/api/jobs/{first['id']}")
    assert client.get(f"/api/jobs/{first['id']}").json()["queue"] is None, "cancelled: not waiting"
    assert client.get(f"/api/jobs/{second['id']}").json()["queue"]["position"] == 1
