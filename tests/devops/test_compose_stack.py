"""Issue 28: the CPU profile of the compose deployment runs for real (images built here, `up --wait`, jobs
over HTTP, scaling by replicas, faults survived, nothing lost, nothing left). Faults land only once the job
is seen running; every wait is on a state, never a fixed sleep. The tests run in this order on one
deployment (one xdist group); the last one removes it."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.compose import Deployment, wait_for
from tests.fixtures.e2e import clip, running, upload, wait_job
from tests.fixtures.media import ffprobe

pytestmark = [pytest.mark.compose, pytest.mark.slow]

#: A job long enough (the adapters' frame delay) for a fault or a scale-down to land mid-job.
LONG_SECONDS = 4.0
#: The scaling test's jobs: 250 frames at the adapters' 100 ms frame delay, 25 s or more each.
SCALING_SECONDS = 10.0
JOB_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def web(compose_deployment: Deployment) -> Iterator[httpx.Client]:
    """One HTTP client with a cookie jar for the module, as one browser: its owner cookie is set before any
    upload, so every test sees the same owner's jobs."""
    with httpx.Client(base_url=compose_deployment.base_url, timeout=60) as client:
        assert client.get("/api/jobs").status_code == 200 and client.cookies, "no owner cookie was set"
        yield client


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of this module's clips (ffmpeg, made once)."""
    return tmp_path_factory.mktemp("compose-clips")


def status(url: str) -> int:
    """HTTP status of GET url (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def started_at(deployment: Deployment, container: str) -> str:
    """When the container last started (changes when its restart policy brings it back)."""
    state: Any = deployment.inspect(container)["State"]
    return str(state["StartedAt"]) if state["Running"] else ""


def logs_of(container: str) -> str:
    """Everything a container wrote."""
    argv = ["docker", "logs", container]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout + done.stderr


class Follower:
    """`docker logs -f` of one container into a file, until the container is gone."""

    def __init__(self, container: str, path: Path) -> None:
        self.path = path
        with path.open("wb") as sink:
            self._process = subprocess.Popen(["docker", "logs", "-f", container], stdout=sink,
                                             stderr=subprocess.STDOUT)  # fmt: skip

    def wait(self, timeout: float) -> None:
        """Until the container stopped (the follower ends with it)."""
        self._process.wait(timeout=timeout)

    def stop(self) -> None:
        """End the follower of a container still running."""
        self._process.kill()
        self._process.wait(timeout=30)


def test_1_built_up_and_a_job_done_over_http(
    compose_deployment: Deployment, web: httpx.Client, clips: Path, tmp_path: Path
) -> None:
    for container in compose_deployment.containers():
        state: Any = compose_deployment.inspect(container)["State"]
        assert state["Health"]["Status"] == "healthy", container
    job = upload(web, clip(clips, "small.mp4", size="64x48", seconds=1.0), scale="4")
    done = wait_job(web, job["id"], timeout=JOB_TIMEOUT_S)
    assert done["status"] == "done", done["error"]
    assert (done["output"]["width"], done["output"]["height"]) == (256, 192)
    result = tmp_path / "result.mp4"
    result.write_bytes(web.get(done["result_url"]).content)
    streams = {stream["codec_type"]: stream for stream in ffprobe(result)["streams"]}
    assert (streams["video"]["width"], streams["video"]["height"]) == (256, 192)
    assert "audio" in streams, "the source's audio is kept"


def test_2_scaling_out_and_back_hands_tasks_back(
    compose_deployment: Deployment, web: httpx.Client, clips: Path, tmp_path: Path
) -> None:
    compose_deployment.up("--scale", "adapter=3")
    adapters = compose_deployment.containers("adapter")
    assert len(adapters) == 3
    # Three jobs for three ready adapters (prefetch 1: one each), each far longer than the scale-down's own
    # time plus SHUTDOWN_GRACE_S, so the two stopped replicas are certainly mid-job when their SIGTERM lands
    # (with shorter jobs queued behind, CI once saw both finish inside the grace and hand nothing back).
    source = clip(clips, "scaling.mp4", size="64x48", seconds=SCALING_SECONDS)
    jobs = [upload(web, source, scale="4")["id"] for _ in range(3)]

    def all_three_working() -> bool:
        listed = {job["id"]: job for job in web.get("/api/jobs").json()}
        return sum(1 for job in jobs if listed[job]["status"] == "running") == 3

    wait_for(all_three_working, "three jobs running at once on three adapters", timeout=JOB_TIMEOUT_S)
    # The stopped replicas are removed with their logs: follow every replica's log to a file until it ends.
    followed = {adapter: Follower(adapter, tmp_path / f"{adapter[:12]}.log") for adapter in adapters}
    began = time.monotonic()
    compose_deployment.up("--scale", "adapter=1")
    stopped_in = time.monotonic() - began
    assert stopped_in < 30 + 15, f"scale-down took {stopped_in:.0f} s: past stop_grace_period (30 s)"
    finals = [wait_job(web, job, timeout=JOB_TIMEOUT_S) for job in jobs]
    assert [job["status"] for job in finals] == ["done"] * 3, [job["error"] for job in finals]
    # Every job's output once: the done event of each job was applied once (the record counts frames once).
    assert all(job["output"]["frames"] == finals[0]["output"]["frames"] for job in finals)
    remaining = compose_deployment.containers("adapter")
    assert len(remaining) == 1
    kept = logs_of(remaining[0])
    stopped = [adapter for adapter in adapters if adapter not in remaining]
    for adapter in stopped:
        followed[adapter].wait(timeout=60)
        log = followed[adapter].path.read_text()
        # Each stopped replica was running one of the jobs: it handed that task back (SHUTDOWN_GRACE_S is
        # shorter than the job), and the replica left ran it again as a redelivery.
        handed = [job for job in jobs if f"{job}: requeued (worker shutting down)" in log]
        assert len(handed) == 1, f"adapter {adapter[:12]} handed back {handed}:\n{log[-3000:]}"
        assert re.search(rf"{handed[0]}: start \(attempt \d+, delivery [1-9]", kept), "not run again"
    for follower in followed.values():
        follower.stop()


def test_3_model_server_killed_mid_job(
    compose_deployment: Deployment, web: httpx.Client, clips: Path
) -> None:
    triton = compose_deployment.containers("triton")[0]
    before = started_at(compose_deployment, triton)
    ready = f"http://127.0.0.1:{compose_deployment.ports['CPU_TRITON_HTTP_PORT']}/v2/health/ready"
    job = upload(web, clip(clips, "long.mp4", size="64x48", seconds=LONG_SECONDS), scale="4")
    wait_job(web, job["id"], until=running, timeout=JOB_TIMEOUT_S)
    compose_deployment.crash(triton)
    # The backend's /readyz reports the model server (?serving=true would stay 200: uploads still wait).
    backend_ready = f"{compose_deployment.base_url}/readyz"
    wait_for(lambda: status(ready) != 200, "the model server's readiness down after the kill", timeout=30)
    wait_for(lambda: status(backend_ready) == 503, "the backend's /readyz 503", timeout=30)
    wait_for(lambda: started_at(compose_deployment, triton) not in ("", before), "triton restarted (policy)")
    wait_for(lambda: status(ready) == 200, "readiness back to 200", timeout=240)
    wait_for(lambda: status(backend_ready) == 200, "the backend's /readyz 200 again", timeout=60)
    done = wait_job(web, job["id"], timeout=JOB_TIMEOUT_S)
    assert done["status"] == "done", done["error"]


def test_3_adapter_killed_mid_job(compose_deployment: Deployment, web: httpx.Client, clips: Path) -> None:
    job = upload(web, clip(clips, "long.mp4", size="64x48", seconds=LONG_SECONDS), scale="4")
    wait_job(web, job["id"], until=running, timeout=JOB_TIMEOUT_S)
    adapter = compose_deployment.containers("adapter")[0]
    before = started_at(compose_deployment, adapter)
    compose_deployment.crash(adapter)
    wait_for(lambda: started_at(compose_deployment, adapter) not in ("", before), "adapter restarted")
    done = wait_job(web, job["id"], timeout=JOB_TIMEOUT_S)
    assert done["status"] == "done", done["error"]


def test_3_broker_restarted_with_jobs_queued(
    compose_deployment: Deployment, web: httpx.Client, clips: Path
) -> None:
    source = clip(clips, "long.mp4", size="64x48", seconds=LONG_SECONDS)
    jobs = [upload(web, source, scale="4")["id"] for _ in range(3)]
    wait_job(web, jobs[0], until=running, timeout=JOB_TIMEOUT_S)
    compose_deployment.compose("restart", "rabbitmq", timeout=300)
    finals = [wait_job(web, job, timeout=JOB_TIMEOUT_S) for job in jobs]
    assert [job["status"] for job in finals] == ["done"] * 3, [job["error"] for job in finals]


def test_5_second_backend_serves_the_same_owner_and_one_janitor(
    compose_deployment: Deployment, web: httpx.Client
) -> None:
    port = compose_deployment.ports["BACKEND_2_PORT"]
    name = f"{compose_deployment.project}-backend-2"
    environment = f"BACKEND_PORT={port}"
    compose_deployment.compose("run", "-d", "--no-deps", "--name", name, "-e", environment, "backend")
    try:
        second = f"http://127.0.0.1:{port}"
        wait_for(lambda: status(f"{second}/readyz") == 200, "the second backend ready", timeout=180)
        mine = {job["id"] for job in web.get("/api/jobs").json()}
        with httpx.Client(base_url=second, cookies=web.cookies, timeout=60) as other:
            theirs = {job["id"] for job in other.get("/api/jobs").json()}
        assert mine and mine == theirs
        backends = compose_deployment.containers("backend")
        assert len(backends) == 2
        leads = [backend for backend in backends if "janitor leads" in logs_of(backend)]
        assert len(leads) == 1, "the janitor lease is held by exactly one backend"
    finally:
        # A `compose run` container is no service replica: `down` (test 4) would leave it.
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=120, check=False)


def test_4_down_up_keeps_jobs_and_down_v_leaves_nothing(
    compose_deployment: Deployment, web: httpx.Client
) -> None:
    before = web.get("/api/jobs").json()
    assert before
    compose_deployment.compose("down", "--timeout", "30", timeout=300)
    assert compose_deployment.containers(every=True) == []
    compose_deployment.up()
    after = {job["id"]: job for job in web.get("/api/jobs").json()}
    for job in before:
        assert after[job["id"]]["status"] == job["status"]
        if job["status"] == "done":
            assert web.get(job["result_url"]).status_code == 200, "the result file survived"
    compose_deployment.remove()
    assert compose_deployment.containers(every=True) == []
    assert compose_deployment.volumes() == []
    for name, port in compose_deployment.ports.items():
        assert status(f"http://127.0.0.1:{port}/") == 0, f"something still answers on {name}"
