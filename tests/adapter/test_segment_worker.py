"""A worker on the real RabbitMQ runs segment tasks and the assembly (real pipeline, stand-in model)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.job import Stages
from adapter.video import pipeline
from adapter.video.assembly import assemble
from adapter.worker.consumer import Worker, WorkerConfig
from contract import storage
from contract.messages import JobMessage, Segment
from tests.fixtures.media import packet_pts
from tests.fixtures.models import NearestX2
from tests.fixtures.worker import Broker

pytestmark = pytest.mark.rabbitmq


def nearest(model: str) -> NearestX2:
    return NearestX2()


STAGES = Stages(run_pipeline=pipeline.run, make_upscaler=nearest, assemble=assemble)


@pytest.fixture
def worker(broker: Broker, tmp_path: Path) -> Iterator[Worker]:
    running = Worker(WorkerConfig(amqp_url=broker.url, storage_root=tmp_path, tick_s=0.05), STAGES)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    assert running.consuming.wait(10)
    yield running
    running.stop(0)
    thread.join(30)


def test_segments_then_assembly_through_the_queue(
    broker: Broker,
    worker: Worker,
    tmp_path: Path,
    clip12: Path,
) -> None:
    job_id = "d" * 32
    source = storage.resolve(tmp_path, storage.input_key(job_id, ".mp4"))
    source.parent.mkdir(parents=True)
    shutil.copy(clip12, source)
    bounds: list[int | None] = [None, 51200, 102400, None]

    def segment_task(index: int) -> bytes:
        segment = Segment(
            index=index, count=3, start_pts=bounds[index], end_pts=bounds[index + 1], frames=100
        )
        message = JobMessage(
            job_id=job_id,
            input_key=storage.input_key(job_id, ".mp4"),
            output_key=storage.segment_key(job_id, index),
            segment=segment,
        )
        return message.model_dump_json().encode()

    for index in (2, 0, 1, 1):  # segment 2 of 3 delivered twice: it is simply rewritten
        broker.publish(segment_task(index))
    events = broker.wait_events(lambda seen: len([e for e in seen if e.type == "done"]) == 4, [], timeout=60)
    done = [e for e in events if e.type == "done"]
    assert sorted(e.segment for e in done) == [0, 1, 1, 2]
    assert {e.frames for e in done} == {100}
    assert all(e.segment is not None for e in events if e.type == "progress")
    assembly = JobMessage(
        kind="assemble",
        job_id=job_id,
        input_key=storage.input_key(job_id, ".mp4"),
        output_key=storage.output_key(job_id),
        segments=3,
    )
    broker.publish(assembly.model_dump_json().encode())
    final = broker.wait_events(lambda seen: any(e.type == "done" for e in seen), [], timeout=60)
    finished = next(e for e in final if e.type == "done")
    assert finished.segment is None and finished.frames == 300
    assert finished.preview_after_key == storage.preview_key(job_id, "after"), "the middle segment's preview"
    output = storage.resolve(tmp_path, storage.output_key(job_id))
    assert packet_pts(output, "v:0") == packet_pts(clip12, "v:0")
    assert packet_pts(output, "a:0") == packet_pts(clip12, "a:0")
    leftovers = [p.name for p in output.parent.rglob(".*")]
    assert leftovers == [], leftovers
