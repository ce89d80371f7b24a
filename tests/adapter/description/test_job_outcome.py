"""The job's honest outcome: nothing found → no WebVTT, a note; the density reaches describe."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from adapter.description import describe
from adapter.job import Stages, Toolbox, Work, execute
from adapter.video.stages import Progress
from contract.messages import DoneEvent, JobOptions
from tests.fixtures.worker import STAGES


def test_a_describe_only_job_with_nothing_found_reports_it_and_has_no_vtt(
    model_path: Path, tmp_path: Path
) -> None:
    clip = tmp_path / "input.mp4"
    source = ["-f", "lavfi", "-i", "cellauto=s=320x240:rate=25:rule=110:scroll=1", "-t", "2"]
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y", *source, "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    subprocess.run([*args, str(clip)], check=True, timeout=60)
    asked: list[str] = []

    def recording(*args: Any, density: Any, **kwargs: Any) -> Any:
        asked.append(density)
        return describe(*args, density=density, **kwargs)

    stages = Stages(run_pipeline=STAGES.run_pipeline, make_upscaler=STAGES.make_upscaler, describe=recording)
    options = JobOptions(upscale=False, describe="ru", density="brief")
    work = Work(clip, tmp_path / "out.mp4", None, tmp_path / "up.mp4", options)
    progress: list[Progress] = []
    result = execute(work, stages, Toolbox(stages), progress.append, lambda: False)
    assert asked == ["brief"]
    assert result.vtt is None and not (tmp_path / "out.vtt").exists()
    assert [note.code for note in result.notes] == ["description.nothing_found"]
    assert (tmp_path / "out.mp4").stat().st_size > 0
    event = DoneEvent(
        job_id="j", output_key="k", frames=1, width=1, height=1, seconds=0, notes=list(result.notes)
    )
    assert (
        DoneEvent.model_validate_json(event.model_dump_json())
        .notes[0]
        .text("ru")
        .startswith("В этом видео не нашлось, что описать")
    )
