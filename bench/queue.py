"""Jobs/minute through RabbitMQ and the queue's own overhead per job (time not spent in the pipeline).

Workers run on threads of this process against the real broker, in a throw-away vhost. Scenarios:
``noop`` (a pipeline that returns at once: pure queue cost), ``guarded`` (the child-process run used
for suspicious redeliveries), and ``real`` (the real pipeline with the in-process model on a tiny clip).
Run: ``.venv/bin/python -m bench.queue [--jobs 200] [--real-jobs 8]``; writes bench/results/queue.json.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:
    sys.exit("run as a module so bench/queue.py does not shadow the standard library: python -m bench.queue")

import argparse
import functools
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika

from adapter.inference.upscalers import make_upscaler
from adapter.job import GuardedJob, Stages, Work
from adapter.video import pipeline
from adapter.video.stages import Result
from adapter.worker.consumer import Worker, WorkerConfig
from adapter.worker.guard import run_guarded
from contract import storage, topology
from contract.messages import JobMessage, JobOptions, parse_event
from devops.broker import Vhost
from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "queue.json"
REAL_MODEL = "realesr-animevideov3-x2"


def noop_run(input_path: Path, output_path: Path, options: Any, upscaler: Any, /, **_: Any) -> Result:
    """Pipeline stand-in: writes a one-byte output and returns."""
    output_path.write_bytes(b"x")
    return Result(frames=1, width=2, height=2, seconds=0.0)


class NoopUpscaler:
    """Upscaler stand-in for the guarded-child overhead: never called."""

    scale, max_batch, in_flight, device = 1, 1, 1, "cpu"

    def infer(self, batch: Any) -> Any:
        return batch

    def close(self) -> None:
        return None


def noop_upscaler(model: str) -> NoopUpscaler:
    return NoopUpscaler()


class Timed:
    """Wraps a pipeline function and records how long each call took."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            with self._lock:
                self.seconds.append(time.perf_counter() - start)


def publish_jobs(channel: Any, root: Path, source: Path, count: int, options: JobOptions) -> list[str]:
    """Copy the source into ``count`` job folders and publish their tasks (persistent, confirmed)."""
    ids = []
    for _ in range(count):
        job_id = uuid.uuid4().hex
        job = JobMessage(job_id=job_id, input_key=storage.input_key(job_id, source.suffix),
                         output_key=storage.output_key(job_id), options=options)
        target = storage.resolve(root, job.input_key)
        target.parent.mkdir(parents=True)
        target.write_bytes(source.read_bytes())
        channel.basic_publish(topology.TASKS_EXCHANGE, topology.TASKS_ROUTING_KEY, job.model_dump_json(),
                              pika.BasicProperties(delivery_mode=2, content_type="application/json"))
        ids.append(job_id)
    return ids


def wait_done(channel: Any, ids: list[str], timeout: float) -> float:
    """Consume events until every job is done; returns the time the last one arrived."""
    pending = set(ids)
    deadline = time.monotonic() + timeout
    last = time.perf_counter()
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} jobs not done after {timeout:.0f}s")
        method, _, body = channel.basic_get(topology.EVENTS_QUEUE, auto_ack=True)
        if method is None:
            channel.connection.sleep(0.002)
            continue
        event = parse_event(body)
        if event.type == "failed":
            raise RuntimeError(f"job failed: {event.reason}")
        if event.type == "done":
            pending.discard(event.job_id)
            last = time.perf_counter()
    return last


def scenario(url: str, name: str, run: Callable[..., Any], factory: Callable[[str], Any], source: Path,
             jobs: int, workers: int, options: JobOptions) -> dict[str, Any]:
    """Publish ``jobs`` tasks at once, serve them with ``workers`` workers; throughput and overhead."""
    timed = Timed(run)
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        root = Path(tmp)
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        channel.confirm_delivery()
        topology.declare(channel)
        for queue in (topology.TASKS_QUEUE, topology.EVENTS_QUEUE):
            channel.queue_purge(queue)
        config = WorkerConfig(amqp_url=url, storage_root=root, progress_interval_s=1.0)
        running = [Worker(config, Stages(timed, factory)) for _ in range(workers)]
        for worker in running:
            worker.preload(options.model)
        threads = [threading.Thread(target=w.serve, daemon=True) for w in running]
        for thread in threads:
            thread.start()
        for worker in running:
            worker.consuming.wait(30)
        started = time.perf_counter()
        ids = publish_jobs(channel, root, source, jobs, options)
        last = wait_done(channel, ids, timeout=600 + jobs * 30)
        for worker in running:
            worker.stop(0)
        for thread in threads:
            thread.join(30)
        connection.close()
    wall = last - started
    busy = sum(timed.seconds)
    return {
        "scenario": name, "workers": workers, "jobs": jobs, "wall_s": round(wall, 3),
        "jobs_per_min": round(jobs / wall * 60, 1),
        "pipeline_s_mean": round(statistics.fmean(timed.seconds), 4),
        # Wall time a worker spent per job outside the pipeline: publishing, acking, events, file renames.
        "overhead_ms_per_job": round((wall * workers - busy) / jobs * 1000, 2),
    }


def guarded_overhead(source: Path, count: int) -> dict[str, Any]:
    """Cost of running one job in a spawned child (used for deliveries near the limit)."""
    times = []
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as tmp:
        for index in range(count):
            start = time.perf_counter()
            work = Work(source, Path(tmp) / f"out{index}.mp4", (Path(tmp) / "a.jpg", Path(tmp) / "b.jpg"),
                        Path(tmp) / "up.mp4", JobOptions())
            run_guarded(GuardedJob(work, Stages(noop_run, noop_upscaler)), lambda p: None, lambda: False)
            times.append(time.perf_counter() - start)
    return {"scenario": "guarded child", "workers": 1, "jobs": count, "wall_s": round(sum(times), 3),
            "jobs_per_min": round(count / sum(times) * 60, 1), "pipeline_s_mean": 0.0,
            "overhead_ms_per_job": round(statistics.fmean(times) * 1000, 2)}


def main() -> int:
    """Run the scenarios, print a table, write bench/results/queue.json."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    cli.add_argument("--jobs", type=int, default=200, help="jobs of each no-op scenario")
    cli.add_argument("--guarded", type=int, default=5, help="guarded child runs")
    cli.add_argument("--real-jobs", type=int, default=8, help="real-pipeline jobs (0 skips)")
    args = cli.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-queue-src-") as tmp, Vhost(args.amqp_url) as vhost:
        noop_source = Path(tmp) / "input.bin"
        noop_source.write_bytes(b"x" * 1024)
        for workers in (1, 2):
            rows.append(scenario(vhost.url, "noop pipeline", noop_run, noop_upscaler, noop_source,
                                 args.jobs, workers, JobOptions()))
        rows.append(guarded_overhead(noop_source, args.guarded))
        models_dir = ROOT / ".models" / "onnx"
        if args.real_jobs and (models_dir / f"{REAL_MODEL}.onnx").exists():
            clip = make_clip(Path(tmp) / "clip.mp4", size="64x48", seconds=1.0, audio_tracks=0)
            factory = functools.partial(make_upscaler, triton_url=None, models_dir=models_dir)
            rows.append(scenario(vhost.url, "real pipeline 64x48 1s x2 in-process", pipeline.run, factory,
                                 clip, args.real_jobs, 1, JobOptions(model=REAL_MODEL)))
    header = (f"{'scenario':<40} {'workers':>7} {'jobs':>5} {'jobs/min':>9} {'pipeline s':>10} "
              f"{'overhead ms/job':>16}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['scenario']:<40} {row['workers']:>7} {row['jobs']:>5} {row['jobs_per_min']:>9} "
              f"{row['pipeline_s_mean']:>10} {row['overhead_ms_per_job']:>16}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "cpus": _cpus(), "rows": rows}, indent=2))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
