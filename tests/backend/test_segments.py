"""Segmented jobs: planning, progress summed over segments, the assembly published exactly once."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.dispatch.outbox import Outbox, task_message
from backend.errors import BrokerUnavailable
from backend.intake.segments import cuts, plan
from backend.jobs import rules as jobs
from backend.jobs.db import make_engine, make_sessions
from backend.jobs.store import JobStore
from backend.settings import Settings
from contract.catalogue import reason
from contract.messages import DoneEvent, FailedEvent, JobMessage
from contract.probe import keyframes
from contract.storage import output_key, segment_key
from tests.fixtures.backend import DATABASES, upload
from tests.fixtures.database import copy_sqlite
from tests.fixtures.jobs import T0, TB, new_job, seg_done, seg_progress, segmented
from tests.fixtures.media import make_gop_clip
from tests.fixtures.publishers import CrashAfterConfirm, RecordingPublisher

KEYS_2S = [i * 25600 for i in range(30)]  # a keyframe every 2 s for 60 s


def test_sixty_seconds_with_keyframes_every_two_make_six_aligned_segments() -> None:
    segments = plan(KEYS_2S, time_base=TB, fps=Fraction(25), duration_s=60.0, frames=1500, seconds=10)
    assert [(s.start_pts, s.end_pts) for s in segments] == [
        (None, 128000),
        (128000, 256000),
        (256000, 384000),
        (384000, 512000),
        (512000, 640000),
        (640000, None),
    ]
    assert all(s.start_pts in KEYS_2S for s in segments[1:])
    assert [s.frames for s in segments] == [250] * 6
    assert {s.count for s in segments} == {6}


def test_cuts_snap_to_the_nearest_keyframe() -> None:
    keys = [0, 12800 * 3, 12800 * 9, 12800 * 21, 12800 * 26]  # keyframes at 0, 3, 9, 21, 26 s
    assert cuts(keys, time_base=TB, duration_s=Fraction(30), seconds=Fraction(10)) == [12800 * 9, 12800 * 21]


def test_a_cut_without_a_keyframe_nearby_falls_on_the_exact_time() -> None:
    # Only one keyframe: the adapter decodes from it and drops frames before the cut (frame-exact anyway).
    assert cuts([0], time_base=TB, duration_s=Fraction(35), seconds=Fraction(10)) == [128000, 256000, 384000]


def test_short_video_is_one_segment_and_a_short_tail_joins_the_last() -> None:
    assert len(plan(KEYS_2S[:7], time_base=TB, fps=Fraction(25), duration_s=14, frames=350, seconds=10)) == 1
    segments = plan(KEYS_2S[:13], time_base=TB, fps=Fraction(25), duration_s=24.0, frames=600, seconds=10)
    assert [(s.start_pts, s.end_pts) for s in segments] == [(None, 128000), (128000, None)]
    assert sum(s.frames for s in segments) == 600
    assert plan(KEYS_2S, time_base=TB, fps=Fraction(25), duration_s=60, frames=1500, seconds=0)[0].count == 1


def test_keyframes_are_read_from_a_real_clip(tmp_path: Path) -> None:
    path = make_gop_clip(tmp_path / "k.mp4", seconds=6, audio_tracks=0)
    assert keyframes(path) == [0, 25600, 51200]


# ---- state rules --------------------------------------------------------------------------------------


def test_progress_is_the_sum_over_segments() -> None:
    job = segmented()
    assert jobs.apply_event(job, seg_progress(0, 100))
    assert jobs.apply_event(job, seg_progress(2, 50))
    assert job.status == jobs.RUNNING
    assert (job.frames_done, job.frames_total) == (150, 750)
    assert job.progress == pytest.approx(0.2)
    assert job.fps == 10.0 and job.eta_s == pytest.approx(60.0)
    assert not jobs.apply_event(job, seg_progress(0, 80)), "an older event of a segment changes nothing"
    assert job.frames_done == 150


def test_last_segment_done_creates_the_assembly_exactly_once() -> None:
    job = segmented()
    for index in (2, 0):
        assert jobs.apply_event(job, seg_done(index))
    assert [t.kind for t in job.tasks] == ["segment"] * 3
    assert jobs.apply_event(job, seg_done(1))
    assemblies = [t for t in job.tasks if t.kind == "assemble"]
    assert len(assemblies) == 1 and assemblies[0].count == 3
    assert jobs.unpublished_tasks(job) == assemblies and job.published, "only the new row is due"
    assemblies[0].published = True
    for index in (0, 1, 2, 1):  # redelivered segments publish their done event again
        assert not jobs.apply_event(job, seg_done(index))
    assert len([t for t in job.tasks if t.kind == "assemble"]) == 1 and not jobs.needs_publishing(job)
    assert job.status == jobs.RUNNING and job.progress < 1
    final = DoneEvent(
        job_id="a" * 32, output_key=output_key("a" * 32), frames=750, width=8, height=8, seconds=3.0
    )
    assert jobs.apply_event(job, final)
    assert job.status == jobs.DONE and job.progress == 1.0
    assert not jobs.apply_event(job, final), "the job finishes once"


def test_a_whole_job_done_event_before_the_assembly_is_refused() -> None:
    job = segmented()
    stray = DoneEvent(
        job_id="a" * 32, output_key=output_key("a" * 32), frames=1, width=8, height=8, seconds=1
    )
    assert not jobs.apply_event(job, stray)
    assert job.status == jobs.QUEUED


def test_a_failed_segment_fails_the_job_with_its_reason_and_a_retry_does_not_requeue_it() -> None:
    job = segmented()
    jobs.apply_event(job, seg_progress(1, 10))
    retry = FailedEvent(job_id="a" * 32, reason="segment 2 of 3: Triton down", permanent=False, segment=1)
    assert jobs.apply_event(job, retry)
    assert job.status == jobs.RUNNING, "the other segments keep running"
    dead = FailedEvent(
        job_id="a" * 32, reason="segment 2 of 3: damaged (gave up after 6 attempts)", segment=1
    )
    assert jobs.apply_event(job, dead)
    assert job.status == jobs.FAILED and job.error is not None and job.error.startswith("segment 2 of 3")
    assert not jobs.apply_event(job, seg_done(0))


# ---- outbox and upload ------------------------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> JobStore:
    """A job store on SQLite (a copy of the migrated template) and on the real PostgreSQL."""
    from backend.jobs.db import migrate

    if request.param == "sqlite":
        url = copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "db.sqlite")
        return JobStore(make_sessions(make_engine(url)))
    engine = make_engine(str(request.getfixturevalue("postgres_url")))
    migrate(engine)
    return JobStore(make_sessions(engine))


def test_outbox_publishes_every_segment_then_the_assembly_once(store: JobStore) -> None:
    job = segmented()
    job.published = False
    for task in job.tasks:
        task.published = False
    store.add(job)
    publisher = RecordingPublisher()
    outbox = Outbox(store, publisher)
    planned = [t.frames_total for t in job.tasks]
    assert outbox.publish_pending() == 3, "one message per segment"
    assert [m.segment.frames for m in publisher.sent if m.segment] == planned, "the plan travels"
    assert [(m.kind, m.segment.index if m.segment else None, m.output_key) for m in publisher.sent] == [
        ("segment", i, segment_key(job.id, i)) for i in range(3)
    ]
    assert outbox.publish_pending() == 0
    for index in range(3):
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))  # duplicate
    assert outbox.publish_pending() == 1 and outbox.publish_pending() == 0
    last = publisher.sent[-1]
    assert (last.kind, last.segments, last.output_key, len(publisher.sent)) == (
        "assemble",
        3,
        output_key(job.id),
        4,
    )


def test_queue_assembly_adds_one_unpublished_row_only_after_the_last_segment() -> None:
    job = segmented()
    assert jobs.queue_assembly(job) is None, "no segment is stored yet"
    for task in job.tasks:
        task.status = jobs.DONE
    assembly = jobs.queue_assembly(job)
    assert assembly is not None and (assembly.kind, assembly.index, assembly.count) == ("assemble", 3, 3)
    assert not assembly.published and jobs.needs_publishing(job)
    assert jobs.queue_assembly(job) is None and jobs.assembly_task(job) is assembly
    assert jobs.queue_assembly(new_job()) is None, "a whole-video job has no assembly"


def test_the_last_done_event_publishes_exactly_one_assembly_once(store: JobStore) -> None:
    job = segmented()  # every segment already published
    store.add(job)
    publisher = RecordingPublisher()
    outbox = Outbox(store, publisher)
    assert outbox.publish_pending() == 0 and store.unpublished() == []
    for index in (0, 1):
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))
    assert store.unpublished() == [], "the assembly waits for the last segment"
    last = seg_done(2).model_copy(update={"job_id": job.id})
    assert store.apply_event(last) is not None
    assert store.apply_event(last) is None, "a duplicate done event changes nothing"
    stored = store.get(job.id)
    assert stored is not None and stored.published, "the job's own flag is not toggled"
    assert [(t.kind, t.published) for t in jobs.unpublished_tasks(stored)] == [("assemble", False)]
    assert store.unpublished() == [job.id]
    assert outbox.publish_pending() == 1
    store.apply_event(last)  # delivered once more after the assembly went out
    assert outbox.publish_pending() == 0 and store.unpublished() == []
    sent = [(m.kind, m.segments, m.output_key) for m in publisher.sent]
    assert sent == [("assemble", 3, output_key(job.id))]
    stored = store.get(job.id)
    assert stored is not None and [t.kind for t in stored.tasks].count("assemble") == 1


def test_a_crash_after_the_confirm_sends_the_assembly_again_not_a_second_row(store: JobStore) -> None:
    job = segmented()
    store.add(job)
    for index in range(3):
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))
    publisher = RecordingPublisher()
    outbox = Outbox(store, CrashAfterConfirm(publisher))
    with pytest.raises(BrokerUnavailable):
        outbox.publish_pending()
    assert store.unpublished() == [job.id], "the rolled-back row is still due"
    assert outbox.publish_pending() == 1 and store.unpublished() == []
    assert [m.kind for m in publisher.sent] == ["assemble", "assemble"], "at least once, same task"
    stored = store.get(job.id)
    assert stored is not None and [t.kind for t in stored.tasks].count("assemble") == 1


def test_task_message_of_a_plain_job_has_no_segment_fields() -> None:
    message = task_message(new_job())
    assert message.segment is None and message.segments is None and message.kind == "job"
    assert "segment" not in message.model_dump_json(exclude_none=True)


@pytest.mark.parametrize(
    ("seconds", "fields", "expected"), [(10, {}, 3), (0, {}, 0), (10, {"describe": "en"}, 0)]
)
def test_upload_plans_segments(
    settings: Settings, tmp_path: Path, seconds: float, fields: dict[str, Any], expected: int
) -> None:
    clip = make_gop_clip(tmp_path / "long.mp4", seconds=30)
    settings = settings.model_copy(update={"SEGMENT_SECONDS": seconds})
    with TestClient(create_app(settings, broker=False)) as client:
        job = upload(client, clip, name="long.mp4", **fields)
    assert job["segments"] == expected
    assert job["segments_done"] == 0


def test_a_failed_segmented_job_stops_its_other_segments_and_a_done_one_drops_them(tmp_path: Path) -> None:
    from backend.app import after_segment_event
    from contract import storage

    job = segmented()
    job.status = jobs.FAILED
    after_segment_event(job, tmp_path, None)
    assert storage.resolve(tmp_path, storage.cancel_key(job.id)).exists(), "the adapters' stop signal"
    folder = storage.resolve(tmp_path, storage.segments_dir(job.id))
    folder.mkdir(parents=True)
    (folder / "00000.mp4").write_bytes(b"x")
    job.status = jobs.DONE
    after_segment_event(job, tmp_path, None)
    assert not folder.exists()


def test_a_segment_the_broker_dead_lettered_fails_the_job_naming_it() -> None:
    from types import SimpleNamespace

    from backend.dispatch.broker import crash_reason, dead_letter_event
    from contract.messages import Segment

    job = "e" * 32
    body = (
        JobMessage(
            job_id=job,
            input_key=f"jobs/{job}/input.mp4",
            output_key=segment_key(job, 4),
            segment=Segment(index=4, count=6, frames=250),
        )
        .model_dump_json()
        .encode()
    )
    event = dead_letter_event(SimpleNamespace(headers={}))(body)
    assert isinstance(event, FailedEvent)
    assert event.permanent and event.segment == 4
    assert event.reason == f"segment 5 of 6: {crash_reason()}"
    assert (event.code, event.params) == (crash_reason().code, crash_reason().params)


def test_a_segmented_jobs_speed_sample_is_frames_over_all_its_tasks_seconds(store: JobStore) -> None:
    job = segmented()
    store.add(job)
    for index in range(3):  # 250 frames each in 1 s: 250 frames/s per adapter
        store.apply_event(seg_done(index).model_copy(update={"job_id": job.id}))
    assembly = DoneEvent(
        job_id=job.id, output_key=output_key(job.id), frames=750, width=8, height=8, seconds=0.1
    )
    done = store.apply_event(assembly)
    assert done is not None and done.status == jobs.DONE
    assert done.fps == pytest.approx(750 / 3.1), "not 750 / 0.1 (the assembly's seconds alone)"
    assert store.recent_fps() == {job.model: pytest.approx(750 / 3.1, abs=0.01)}


def test_notes_of_every_segment_and_the_assembly_are_kept_once() -> None:
    job = segmented(count=2)
    field = reason("note.deinterlaced_field", fps=50.0)
    shifted = reason("note.timeline_shifted", seconds=11.4)
    for index in (0, 1, 1):  # a redelivered segment says it again
        jobs.apply_event(job, seg_done(index).model_copy(update={"notes": [field]}), T0)
    assembled = DoneEvent(
        job_id=job.id, output_key=output_key(job.id), frames=500, width=704, height=576, seconds=2.0,
        notes=[shifted],
    )  # fmt: skip
    assert jobs.apply_event(job, assembled, T0)
    assert job.notes == [field.model_dump(), shifted.model_dump()]


def test_damaged_pictures_add_up_over_segments_into_one_note() -> None:
    job = segmented()
    for index, lost in ((0, 3), (1, 0), (2, 4)):
        event = seg_done(index, frames=100)
        notes = [reason("note.frames_damaged", lost=lost, total=100)] if lost else []
        assert jobs.apply_event(job, event.model_copy(update={"damaged": lost, "notes": notes}))
    assert job.damaged_frames == 7
    assert job.notes == [{"code": "note.frames_damaged", "params": {"lost": 7, "total": 200}}]
    assembled = DoneEvent(
        job_id="a" * 32, output_key=output_key("a" * 32), frames=300, width=8, height=8, seconds=1.0
    )
    jobs.queue_assembly(job)
    assert jobs.apply_event(job, assembled)
    assert job.notes == [{"code": "note.frames_damaged", "params": {"lost": 7, "total": 300}}]
    assert job.damaged_frames == 7
