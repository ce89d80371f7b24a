"""``python -m backend`` serves the API and the page and logs JSON lines with job ids."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from contract.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_json_log_lines_carry_job_ids() -> None:
    record = logging.makeLogRecord(
        {"name": "backend.api", "levelname": "INFO", "msg": "job %s", "args": ("queued",)}
    )
    record.job_id = "e" * 32
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "job queued" and line["job_id"] == "e" * 32 and line["level"] == "info"


def test_module_entry_point_serves_health_and_page(tmp_path: Path, clip: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hello</h1>")
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_PORT": str(port),
        "BACKEND_HOST": "127.0.0.1",
        "STORAGE_ROOT": str(tmp_path / "storage"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "SITE_DIR": str(site),
        "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "backend did not start"
            time.sleep(0.2)
        assert "<h1>hello</h1>" in httpx.get(f"{base}/").text
        with clip.open("rb") as handle:
            created = httpx.post(
                f"{base}/api/jobs", files={"file": ("c.mp4", handle, "video/mp4")}, timeout=30
            )
        assert created.status_code == 201
        job_id = created.json()["id"]
        assert httpx.get(f"{base}/readyz").status_code == 503  # broker unreachable, job kept
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status is -15.
    assert proc.returncode in (0, -15) and any("shutdown complete" in entry["msg"] for entry in lines)
    assert any(entry.get("job_id") == job_id and entry["msg"] == "job queued" for entry in lines)
