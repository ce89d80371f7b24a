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
        Segment(index=6, count=6)
    with pytest.raises(ValidationError):
        Segment(index=0, count=2, start_pts=10, end_pts=10)
    with pytest.raises(ValidationError):
        Segment(index=0, count=2, start_pts=1.5)


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
            segment=Segment(index=0, count=2),
            options=JobOptions(describe="en"),
        )


def test_segment_keys_stay_in_the_job_folder() -> None:
    assert storage.segment_key(JOB, 3) == f"jobs/{JOB}/segments/00003.mp4"
    assert storage.segment_key(JOB, 3).startswith(storage.segments_dir(JOB) + "/")
    with pytest.raises(ValueError):
        storage.segment_key(JOB, -1)
