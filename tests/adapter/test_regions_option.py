"""The ``regions`` option from the CLI and the API form to the job message, and the share on the job row."""

from __future__ import annotations

import pytest

from adapter.cli import parser
from backend.errors import InvalidRequest
from backend.intake.options import parse_options
from backend.jobs import rules as jobs
from contract.messages import DoneEvent, JobOptions
from contract.storage import output_key
from tests.fixtures.jobs import seg_done, segmented


def test_cli_and_form_take_off_and_auto_only() -> None:
    assert parser().parse_args(["in.mp4", "-o", "out.mp4"]).regions == "off"
    assert parser().parse_args(["in.mp4", "-o", "o.mp4", "--regions", "auto"]).regions == "auto"
    assert parse_options({}).regions == "off" and JobOptions().regions == "off"
    assert parse_options({"regions": "AUTO"}).regions == "auto"
    with pytest.raises(InvalidRequest) as refused:
        parse_options({"regions": "sometimes"})
    assert refused.value.reason.code == "options.bad_regions"


def test_the_job_keeps_the_frames_weighted_share_of_its_segments() -> None:
    job = segmented(count=2)
    done = [seg_done(0, frames=300), seg_done(1, frames=100)]
    shares = [0.2, 1.0]
    for event, share in zip(done, shares, strict=True):
        assert jobs.apply_event(job, event.model_copy(update={"share": share}))
    assert job.inferred_share == pytest.approx((0.2 * 300 + 1.0 * 100) / 400)
    final = DoneEvent(
        job_id="a" * 32, output_key=output_key("a" * 32), frames=400, width=8, height=8, seconds=1
    )
    jobs.apply_event(job, final)
    assert job.inferred_share == pytest.approx(0.4)  # the assembly's event has no share of its own


def test_regions_run_only_where_asked_and_the_field_is_known() -> None:
    from adapter.limits import Limits
    from adapter.regions.field import field_of
    from adapter.video.pipeline import planner

    assert planner(JobOptions(), 25.0, Limits()) is None  # off by default
    made = planner(JobOptions(regions="auto"), 25.0, Limits(regions_refresh_s=3))
    assert made is not None and (made.radius, made.refresh_s) == (16, 3)
    assert field_of("realcugan-se-x2") is None  # global pooling (unmeasured): regions stay off
