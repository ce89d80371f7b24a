"""Segment fields of the wire contract: optional, validated, and old messages still parse."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from contract import storage
from contract.messages import JobMessage, JobOptions, ProgressEvent, Segment, parse_event

JOB = "c" * 32


def test_messages_without_segment_fields_still_parse() -> None:
    old = {
        "v": 1,
        "kind": "job",
        "job_id": JOB,
        "input_key": f"jobs/{JOB}/input.mp4",
        "output_key": f"jobs/{JOB}/output.mp4",
    }
    job = JobMessage.model_validate_json(json.dumps(old))
    assert job.segment is None and job.segments is None and job.label == f"job {JOB}"
    event = parse_event(
        json.dumps(
            {"type": "progress", "job_id": JOB, "frames_done": 1, "frames_total": 2, "fps": 1.0}
        ).encode()
    )
    assert isinstance(event, ProgressEvent) and event.segment is None


def test_segment_bounds_are_integers_and_ordered() -> None:
    segment = Segment(index=2, count=6, start_pts=256000, end_pts=384000, frames=250)
    assert JobMessage(job_id=JOB, input_key="k", output_key="o", segment=segment).label.endswith(
        "segment 3/6"
    )
    with pytest.raises(ValidationError):
        Segment(index=6, count=6, frames=1)
    with pytest.raises(ValidationError):
        Segment(index=0, count=2, start_pts=10, end_pts=10, frames=1)
    with pytest.raises(ValidationError):
        Segment(index=0, count=2, start_pts=1.5, frames=1)


def test_a_segment_carries_its_planned_frame_count() -> None:
    with pytest.raises(ValidationError):
        Segment(index=0, count=2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Segment(index=0, count=2, frames=0)
    assert Segment(index=0, count=2, end_pts=128000, frames=250).frames == 250


def test_segment_tasks_have_their_own_kind() -> None:
    segment = Segment(index=1, count=2, start_pts=128000, frames=250)
    job = JobMessage(kind="segment", job_id=JOB, input_key="k", output_key="o", segment=segment)
    assert job.kind == "segment" and job.label == f"job {JOB} segment 2/2"
    assert JobMessage.model_validate_json(job.model_dump_json()) == job
    whole = JobMessage(job_id=JOB, input_key="k", output_key="o")
    assert whole.kind == "job" and whole.label == f"job {JOB}"
    with pytest.raises(ValidationError, match="segment task names its segment"):
        JobMessage(kind="segment", job_id=JOB, input_key="k", output_key="o")
    with pytest.raises(ValidationError, match="segment task names its segment"):
        JobMessage(kind="assemble", job_id=JOB, input_key="k", output_key="o", segments=2, segment=segment)


def test_a_segment_task_from_the_previous_version_reads_as_kind_segment() -> None:
    # Until every backend is upgraded, segment tasks in flight say kind "job" and name their segment.
    old = {
        "v": 1,
        "kind": "job",
        "job_id": JOB,
        "input_key": f"jobs/{JOB}/input.mp4",
        "output_key": storage.segment_key(JOB, 2),
        "segment": {"index": 2, "count": 6, "start_pts": 256000, "end_pts": 384000, "frames": 250},
        "segments": None,
    }
    job = JobMessage.model_validate_json(json.dumps(old))
    assert job.kind == "segment" and job.segment is not None and job.segment.frames == 250
    assert job.label == f"job {JOB} segment 3/6"
    assert json.loads(job.model_dump_json())["kind"] == "segment", "it is passed on in the new vocabulary"


def test_assemble_tasks_name_their_segment_count_and_nothing_else() -> None:
    job = JobMessage(kind="assemble", job_id=JOB, input_key="k", output_key="o", segments=6)
    assert job.label == f"job {JOB} assembly"
    with pytest.raises(ValidationError):
        JobMessage(kind="assemble", job_id=JOB, input_key="k", output_key="o")
    with pytest.raises(ValidationError):
        JobMessage(job_id=JOB, input_key="k", output_key="o", segments=3)
    with pytest.raises(ValidationError):
        JobMessage(
            job_id=JOB,
            input_key="k",
            output_key="o",
            segment=Segment(index=0, count=2, frames=1),
            options=JobOptions(describe="en"),
        )


def test_segment_keys_stay_in_the_job_folder() -> None:
    assert storage.segment_key(JOB, 3) == f"jobs/{JOB}/segments/00003.mp4"
    assert storage.segment_key(JOB, 3).startswith(storage.segments_dir(JOB) + "/")
    with pytest.raises(ValueError):
        storage.segment_key(JOB, -1)
