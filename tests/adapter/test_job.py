"""Job stages without a broker: progress across upscale and describe, cancellation between them, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter.errors import JobCancelled, LimitExceededError, TransientJobError
from adapter.job import Stages, Toolbox, Work, execute
from contract.catalogue import reason
from contract.messages import JobOptions
from contract.probe import ProbeError
from tests.adapter.test_worker import STAGES


def _work(tmp_path: Path, plan: dict[str, Any], **options: Any) -> Work:
    source = tmp_path / "input.mp4"
    source.write_text(json.dumps(plan))
    return Work(source, tmp_path / "out.mp4", (tmp_path / "a.jpg", tmp_path / "b.jpg"),
                tmp_path / "up.mp4", JobOptions(**options))


def _run(work: Work, stop: Any = lambda: False, stages: Stages = STAGES) -> tuple[Any, list[Any]]:
    progress: list[Any] = []
    return execute(work, stages, Toolbox(stages), progress.append, stop), progress


def test_progress_runs_once_across_both_stages(tmp_path: Path) -> None:
    result, progress = _run(_work(tmp_path, {"mode": "ok", "frames": 20, "steps": 4}, describe="ru"))
    done = [p.frames_done for p in progress]
    assert done == sorted(done) and done[-1] == 20
    assert done[:20] == [int(i * 0.8) for i in range(1, 21)], "upscaling is the first 80 %"
    assert done[20:] == [17, 18, 19, 20], "each description step moves the rest"
    assert all(p.frames_total == 20 and p.eta_s is not None and p.eta_s >= 0 for p in progress)
    assert result.vtt == tmp_path / "out.vtt" and result.frames == 20


def test_cancel_between_stages_skips_the_description(tmp_path: Path) -> None:
    work = _work(tmp_path, {"mode": "ok", "frames": 3}, describe="ru")
    # The pipeline asks once per frame; the fourth question comes after it finished.
    answers = iter([False, False, False, True])
    with pytest.raises(JobCancelled):
        _run(work, stop=lambda: next(answers, True))
    assert not (tmp_path / "described").exists(), "describe() was never called"
    assert not (tmp_path / "up.mp4").exists(), "the intermediate is removed"


def test_cancel_during_the_description_stops_at_its_next_step(tmp_path: Path) -> None:
    work = _work(tmp_path, {"mode": "ok", "steps": 50, "step_s": 0.01}, upscale=False, describe="en")
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(JobCancelled):
        _run(work, stop=stop)
    assert not (tmp_path / "out.mp4").exists()


def test_unexpected_description_error_is_transient(tmp_path: Path) -> None:
    work = _work(tmp_path, {"mode": "ok", "frames": 2, "describe": "bug"}, describe="en")
    with pytest.raises(TransientJobError, match=r"the audio description failed \(RuntimeError\)"):
        _run(work)
    assert not (tmp_path / "up.mp4").exists()


def test_describe_only_input_beyond_limits_is_permanent(tmp_path: Path) -> None:
    def too_long(path: Path, **_limits: Any) -> Any:
        raise ProbeError("too_large", reason("media.too_long", seconds=9000, limit_s=7200))

    stages = Stages(STAGES.run_pipeline, STAGES.make_upscaler, STAGES.describe, probe=too_long)
    with pytest.raises(LimitExceededError, match="lasts 9000 s"):
        _run(_work(tmp_path, {"mode": "ok"}, upscale=False, describe="ru"), stages=stages)


def test_worker_without_a_describer_retries_elsewhere(tmp_path: Path) -> None:
    stages = Stages(STAGES.run_pipeline, STAGES.make_upscaler)
    with pytest.raises(TransientJobError, match="cannot add audio descriptions"):
        _run(_work(tmp_path, {"mode": "ok"}, upscale=False, describe="ru"), stages=stages)
