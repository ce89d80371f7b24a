"""Job stages without a broker: progress across upscale and describe, cancellation between them, errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from adapter.errors import JobCancelled, LimitExceededError, TransientJobError
from adapter.job import Stages, Toolbox, Work, execute
from adapter.limits import Limits
from adapter.video.stages import Progress, Result, ShouldStop
from contract.container import Container
from contract.mediainfo import MediaInfo
from contract.messages import JobOptions
from tests.fixtures.worker import STAGES, fake_probe


def _work(tmp_path: Path, plan: dict[str, Any], **options: Any) -> Work:
    source = tmp_path / "input.mp4"
    source.write_text(json.dumps(plan))
    return Work(source, tmp_path / "out.mp4", (tmp_path / "a.jpg", tmp_path / "b.jpg"),
                tmp_path / "up.mp4", JobOptions(**options))


def _run(work: Work, stop: Any = lambda: False, stages: Stages = STAGES) -> tuple[Result, list[Progress]]:
    progress: list[Progress] = []
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
    with pytest.raises(TransientJobError, match=r"The audio description failed \(RuntimeError\)") as caught:
        _run(work)
    assert caught.value.code == "job.description_failed"
    assert not (tmp_path / "up.mp4").exists()


@pytest.mark.parametrize("upscale", [True, False])
def test_input_beyond_limits_is_permanent_before_any_stage(tmp_path: Path, upscale: bool) -> None:
    work = _work(tmp_path, {"mode": "ok", "probe": "too_long"}, upscale=upscale, describe="ru")
    with pytest.raises(LimitExceededError, match="lasts 9999 s"):
        _run(work)
    assert not (tmp_path / "attempts").exists() and not (tmp_path / "described").exists()


def test_the_input_is_probed_once_and_its_info_reaches_every_stage(tmp_path: Path) -> None:
    probed: list[Path] = []

    def counting_probe(
        path: Path, *, max_width: int, max_height: int, max_duration_s: float, timeout_s: float = 60.0
    ) -> MediaInfo:
        probed.append(path)
        return fake_probe(
            path, max_width=max_width, max_height=max_height, max_duration_s=max_duration_s, timeout_s=30
        )

    stages = Stages(STAGES.run_pipeline, STAGES.make_upscaler, STAGES.describe, probe=counting_probe)
    result, _ = _run(_work(tmp_path, {"mode": "ok", "frames": 9}, describe="ru"), stages=stages)
    assert probed == [tmp_path / "input.mp4"]
    assert result.frames == 9, "the pipeline counted the probe's frames"
    assert (tmp_path / "described").read_text() == "up.mp4 9\n", "describe got the (upscaled) info"


def test_the_assembly_gets_the_probe_of_the_source(tmp_path: Path) -> None:
    seen: list[tuple[tuple[Path, ...], MediaInfo]] = []

    def assemble(
        source: Path,
        segments: Sequence[Path],
        output: Path,
        /,
        *,
        info: MediaInfo,
        should_stop: ShouldStop,
        limits: Limits,
        container: Container,
    ) -> Result:
        assert container == "mp4"  # JobOptions' auto on a clip without subtitles
        seen.append((tuple(segments), info))
        return Result(info.frames, info.width, info.height, 0.1)

    stages = Stages(STAGES.run_pipeline, STAGES.make_upscaler, probe=fake_probe, assemble=assemble)
    (tmp_path / "input.mp4").write_text(json.dumps({"mode": "ok", "frames": 12}))
    parts = (tmp_path / "a.mp4", tmp_path / "b.mp4")
    work = Work(
        tmp_path / "input.mp4", tmp_path / "out.mp4", None, tmp_path / "up.mp4", JobOptions(), segments=parts
    )
    result, _ = _run(work, stages=stages)
    assert [(segments, info.frames) for segments, info in seen] == [(parts, 12)] and result.frames == 12


def test_a_worker_without_an_assembler_leaves_the_assembly_to_another(tmp_path: Path) -> None:
    work = Work(tmp_path / "input.mp4", tmp_path / "out.mp4", None, tmp_path / "up.mp4", JobOptions(),
                segments=(tmp_path / "a.mp4",))
    with pytest.raises(TransientJobError) as caught:
        _run(work)
    assert caught.value.code == "job.no_assembler"


def test_worker_without_a_describer_retries_elsewhere(tmp_path: Path) -> None:
    stages = Stages(STAGES.run_pipeline, STAGES.make_upscaler)
    with pytest.raises(TransientJobError, match="cannot add audio descriptions"):  # before probing
        _run(_work(tmp_path, {"mode": "ok"}, upscale=False, describe="ru"), stages=stages)
