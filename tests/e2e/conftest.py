"""Helpers of the end-to-end tests: the API client, job polling, adapter metrics, broker inspection."""

from __future__ import annotations

import random
import re
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from contract import storage
from devops.local import Stack
from tests.fixtures.media import make_clip, make_gop_clip
from tests.fixtures.stack import FRAME_DELAY_MS

TERMINAL = ("done", "failed", "cancelled")

#: The crash clip: 200 frames, still one segment (< 1.5 × SEGMENT_SECONDS).
CRASH_SECONDS = 8.0
CRASH_FRAMES = 200
#: The stack's throttle makes the crash clip last at least this long on any host: several progress events
#: (one a second) before it is done, so the fault lands mid-job.
assert CRASH_FRAMES * FRAME_DELAY_MS / 1000 >= 5
#: The long (segmented) clips: frame rate and size.
LONG_CLIP_FPS = 25
LONG_CLIP_SIZE = (96, 64)


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    """HTTP client of the stack's backend, one owner: its identity cookie is set before any upload."""
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        # Concurrent first requests would each get a fresh owner, as parallel new visitors do.
        assert client.get("/api/jobs").status_code == 200 and client.cookies, "no owner cookie was set"
        yield client


@pytest.fixture(scope="session")
def e2e_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder for the clips of this session."""
    return tmp_path_factory.mktemp("e2e-clips")


def clip(
    folder: Path,
    name: str,
    *,
    size: str = "64x48",
    seconds: float = 2.0,
    audio: bool = True,
    title: str | None = None,
) -> Path:
    """A real clip (testsrc2 + sine; a boxed caption when ``title``), made once per name."""
    path = folder / name
    if not path.exists():
        make_clip(path, size=size, seconds=seconds, audio_tracks=1 if audio else 0, title=title)
    return path


def crash_clip(folder: Path) -> Path:
    """A clip whose job runs long enough (throttled) for a fault to hit it mid-way."""
    # Small frames: the throttle, not the model, makes it last (a cheap clip on a loaded CI host).
    return clip(folder, "crash.mp4", size="64x48", seconds=CRASH_SECONDS)


def long_clip(folder: Path, seconds: int) -> Path:
    """testsrc2 at 96x64, 25 fps, a keyframe every 2 s (B-frames on), sine audio; made once."""
    path = folder / f"long{seconds}.mp4"
    if not path.exists():
        width, height = LONG_CLIP_SIZE
        make_gop_clip(path, seconds=seconds, size=f"{width}x{height}", rate=LONG_CLIP_FPS)
    return path


def poison_clip(folder: Path) -> Path:
    """An MP4 whose header is valid (so upload probing accepts it) but whose frames are random bytes."""
    path = folder / "poison.mp4"
    if path.exists():
        return path
    good = folder / "poison-source.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
         "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(good)],
        check=True, timeout=60,
    )
    data = bytearray(good.read_bytes())
    start = data.find(b"mdat") + 4
    noise = random.Random(7)
    data[start:] = bytes(noise.randrange(256) for _ in range(len(data) - start))
    path.write_bytes(bytes(data))
    return path


def upload(api: httpx.Client, path: Path, **fields: str) -> dict[str, Any]:
    """POST /api/jobs and return the created job."""
    with path.open("rb") as handle:
        response = api.post("/api/jobs", files={"file": (path.name, handle, "video/mp4")}, data=fields)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_job(api: httpx.Client, job_id: str, until: Any = TERMINAL, timeout: float = 120) -> dict[str, Any]:
    """Poll the job until ``until(job)`` (or its status is in ``until``); fail with the last state."""
    check = until if callable(until) else (lambda job: job["status"] in until)
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            response = api.get(f"/api/jobs/{job_id}")
        except httpx.TransportError:
            response = None  # backend restarting
        if response is not None and response.status_code == 200:
            job = response.json()
            if check(job):
                return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not get there in {timeout:.0f}s; last state {job}")


def running(job: dict[str, Any]) -> bool:
    """The job is running and partly done: progress strictly between 0 and 1."""
    return job["status"] == "running" and 0 < job["progress"] < 1


def hit_while_running(
    api: httpx.Client,
    job_id: str,
    fault: Callable[[], object],
    *,
    ready: Callable[[dict[str, Any]], bool] = lambda job: True,
    check_after: bool = True,
    timeout: float = 120,
) -> dict[str, Any]:
    """Inject ``fault`` once the job runs with 0 < progress < 1 (and ``ready``); the job as last seen."""
    # Fail, never skip, when the job ends first: the fault would hit nothing and the test pass vacuously
    # (the stack's FRAME_DELAY_MS keeps jobs running long enough on any host).
    due = lambda job: job["status"] in TERMINAL or (running(job) and ready(job))  # noqa: E731
    job = wait_job(api, job_id, due, timeout)
    assert running(job), f"job {job_id} was not running when the fault was due: {job}"
    fault()
    if check_after:  # and had not finished in the moment between the look and the fault
        response = api.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        after = response.json()
        assert after["status"] not in TERMINAL, f"job {job_id} had finished before the fault hit it: {after}"
    return job


def adapter_metric(port: int, name: str, labels: str = "") -> float:
    """One sample of an adapter's /metrics (0 when absent or the adapter is down)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return 0.0
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.eE+-]+)"
    found = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def metrics_ports(stack: Stack) -> list[int]:
    """Metrics port of each adapter, by index."""
    assert stack.config.adapter_metrics_ports is not None
    return list(stack.config.adapter_metrics_ports)


def done_counts(stack: Stack) -> list[float]:
    """Jobs each adapter finished (since it started)."""
    return [adapter_metric(port, "vsr_adapter_jobs_total", 'outcome="done"') for port in metrics_ports(stack)]


def busy_adapter(stack: Stack, timeout: float = 30) -> int:
    """Index of the adapter that is running a job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, port in enumerate(metrics_ports(stack)):
            if adapter_metric(port, "vsr_adapter_busy") == 1:
                return index
        time.sleep(0.1)
    raise AssertionError("no adapter became busy")


def vhost_of(amqp_url: str) -> str:
    """The vhost an AMQP URL points at."""
    return urllib.parse.unquote(urllib.parse.urlsplit(amqp_url).path[1:]) or "/"


def dead_letters(amqp_url: str, queue: str) -> list[tuple[dict[str, Any], bytes]]:
    """Headers and bodies of the messages in ``queue``, left in place (read, then requeued)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        found: list[tuple[dict[str, Any], bytes]] = []
        tags = []
        while True:
            method, props, body = channel.basic_get(queue)
            if method is None:
                break
            tags.append(method.delivery_tag)
            found.append((dict(props.headers or {}), body))
        if tags:
            channel.basic_nack(tags[-1], multiple=True, requeue=True)
        return found
    finally:
        connection.close()


def assert_single_result(stack: Stack, job_id: str) -> None:
    """The job's folder holds its result and no partial (dot) file."""
    folder = storage.resolve(stack.storage_root, storage.job_dir(job_id))
    names = sorted(p.name for p in folder.iterdir())
    assert "output.mp4" in names
    assert not [n for n in names if n.startswith(".")], f"partial files left: {names}"


def close_connections(stack: Stack) -> None:
    """Close every broker connection of the stack's vhost (adapters', backend's), as a broker restart does."""
    vhost = vhost_of(stack.amqp_url)
    close_all = ["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost, "chaos test"]
    subprocess.run(close_all, check=True, timeout=60, capture_output=True)


def log_offsets(stack: Stack) -> list[int]:
    """Current size of each adapter's log: what ``parts`` reads from."""
    return [adapter.log_path.stat().st_size for adapter in stack.adapters]


def parts(stack: Stack, job_id: str, offsets: list[int], word: str) -> dict[str, list[int]]:
    """Which adapters (by index, in log order) logged ``word`` ("start", "done", ...) for each job part.

    A part is "job" for a one-task job, else "segment i/n" or "assembly"; only log text past ``offsets``.
    """
    found: dict[str, list[int]] = {}
    pattern = re.compile(rf"job {job_id}(?: (segment \d+/\d+|assembly))?: {re.escape(word)}\b")
    for index, adapter in enumerate(stack.adapters):
        text = adapter.log_path.read_bytes()[offsets[index] :].decode(errors="replace")
        for match in pattern.finditer(text):
            found.setdefault(match.group(1) or "job", []).append(index)
    return found


def backend_finishes(stack: Stack, job_id: str) -> int:
    """How many times the backend (over all its restarts) moved the job to done."""
    assert stack.backend is not None
    lines = stack.backend.log_path.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if job_id in line and "-> done" in line)
