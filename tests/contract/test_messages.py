"""Wire contract: messages round-trip, refuse bad options, and events parse by type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contract import storage
from contract.messages import (
    DoneEvent,
    FailedEvent,
    JobMessage,
    JobOptions,
    ProgressEvent,
    parse_event,
)

JOB_ID = "0123456789abcdef0123456789abcdef"


def test_job_message_round_trips_through_json() -> None:
    msg = JobMessage(
        job_id=JOB_ID,
        input_key=storage.input_key(JOB_ID, ".mp4"),
        output_key=storage.output_key(JOB_ID),
        options=JobOptions(model="realesrgan-x4plus", height=720),
    )
    again = JobMessage.model_validate_json(msg.model_dump_json())
    assert again == msg
    assert again.options.height == 720 and again.options.scale is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "nope"},
        {"scale": 2, "height": 720},
        {"scale": 8},
        {"crf": 99},
        {"encoder": "rm -rf"},
        {"describe": "fr"},
        {"upscale": False},
        {"upscale": False, "describe": None},
    ],
)
def test_job_options_refuse_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        JobOptions(**kwargs)


def test_job_options_choose_upscaling_and_or_description() -> None:
    assert (JobOptions().upscale, JobOptions().describe) == (True, None)
    both = JobOptions(describe="ru")
    alone = JobOptions(upscale=False, describe="en")
    for options in (both, alone):
        assert JobOptions.model_validate_json(options.model_dump_json()) == options
    # A message from before these fields existed still means "upscale only".
    old = JobMessage.model_validate_json(
        f'{{"job_id": "{JOB_ID}", "input_key": "a", "output_key": "b", "options": {{"scale": 2}}}}'
    )
    assert (old.options.upscale, old.options.describe) == (True, None)


def test_job_message_refuses_unknown_fields_and_bad_ids() -> None:
    with pytest.raises(ValidationError):
        JobMessage.model_validate({"job_id": JOB_ID, "input_key": "a", "output_key": "b", "extra": 1})
    with pytest.raises(ValidationError):
        JobMessage(job_id="../etc", input_key="a", output_key="b")


def test_events_parse_to_their_type() -> None:
    progress = ProgressEvent(job_id=JOB_ID, frames_done=3, frames_total=10, fps=2.5, eta_s=2.8)
    done = DoneEvent(job_id=JOB_ID, output_key="jobs/x/output.mp4", frames=10, width=8, height=8, seconds=1)
    described = done.model_copy(update={"vtt_key": storage.vtt_key(JOB_ID)})
    assert parse_event(described.model_dump_json().encode()) == described
    assert done.vtt_key is None
    failed = FailedEvent(job_id=JOB_ID, reason="not a video")
    for event in (progress, done, failed):
        assert parse_event(event.model_dump_json().encode()) == event
    with pytest.raises(ValidationError):
        parse_event(b'{"type": "exploded", "job_id": "x"}')
