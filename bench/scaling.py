"""Wall time of one long clip through the whole stack with 1, 2 and 4 adapters (segment-parallel jobs).

Starts the local stack once (tritonserver on the CPU model repository, the backend, the most adapters
asked for) in a throw-away vhost, uploads a real clip (testsrc2 + sine, a keyframe every 2 s) and times
upload → done through the HTTP API; then stops adapters down to the next count and repeats. A
single-segment baseline runs the same pipeline once with ``python -m adapter upscale`` against the
same Triton. All adapters share this machine's CPUs (and Triton), so the speed-up is bounded by the
cores, not by the number of adapters: the table says how many there are.
Run: ``.venv/bin/python -m bench.scaling [--seconds 60] [--adapters 1,2,4]``;
writes bench/results/scaling.json.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:
    sys.exit("run as a module: python -m bench.scaling")

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from devops.broker import Vhost, tasks_consumers
from devops.local import DEFAULT_AMQP_URL, Stack, StackConfig
from devops.readiness import free_port, wait_until
from tests.fixtures.media import make_gop_clip

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "scaling.json"
MODEL = "realesr-animevideov3-x4"


def time_job(base_url: str, clip: Path, scale: str, timeout_s: float = 3600) -> dict[str, Any]:
    """Upload ``clip`` and wait for the job to finish; wall seconds from upload to done."""
    with httpx.Client(base_url=base_url, timeout=120) as api:
        started = time.monotonic()
        with clip.open("rb") as handle:
            response = api.post(
                "/api/jobs", files={"file": (clip.name, handle, "video/mp4")}, data={"scale": scale}
            )
        response.raise_for_status()
        job = response.json()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            job = api.get(f"/api/jobs/{job['id']}").json()
            if job["status"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.25)
        wall = time.monotonic() - started
    if job["status"] != "done":
        raise RuntimeError(f"job ended {job['status']}: {job.get('error')}")
    return {"wall_s": round(wall, 2), "frames": job["output"]["frames"], "segments": job["segments"]}


def single_run(stack: Stack, clip: Path, scale: str, folder: Path) -> float:
    """The same pipeline once over the whole clip (the CLI against the stack's Triton)."""
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "adapter",
            "upscale",
            str(clip),
            "-o",
            str(folder / "single.mp4"),
            "--scale",
            scale,
            "--triton-url",
            stack.triton_url,
            "--quiet",
        ],
        check=True,
        timeout=3600,
        cwd=ROOT,
    )
    return round(time.monotonic() - started, 2)


def consumers_are(amqp_url: str, count: int) -> Callable[[], bool]:
    """Predicate: exactly ``count`` adapters consume the task queue."""
    return lambda: tasks_consumers(amqp_url) == count


def main() -> int:
    """Run the counts, print a table, write bench/results/scaling.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="96x64")
    parser.add_argument("--scale", default="2")
    parser.add_argument("--adapters", default="1,2,4", help="comma-separated adapter counts")
    parser.add_argument("--segment-seconds", default="10")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.adapters.split(",")}, reverse=True)
    load_before = round(os.getloadavg()[0], 2)
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="vsr-scaling-") as tmp,
        Vhost(os.environ.get("AMQP_URL", DEFAULT_AMQP_URL), prefix="vsr-bench") as vhost,
    ):
        folder = Path(tmp)
        clip = make_gop_clip(folder / "clip.mp4", seconds=args.seconds, size=args.size, timeout=300)
        config = StackConfig(
            run_dir=folder / "stack",
            amqp_url=vhost.url,
            backend_port=free_port(),
            adapters=counts[0],
            adapter_metrics_ports=[free_port() for _ in range(counts[0])],
            models=[MODEL],
            triton_http_port=free_port(),
            triton_grpc_port=free_port(),
            triton_metrics_port=free_port(),
            extra_env={"SEGMENT_SECONDS": args.segment_seconds},
        )
        with Stack(config) as stack:
            time_job(
                stack.base_url, make_gop_clip(folder / "warm.mp4", seconds=2, size=args.size), args.scale
            )  # warm-up
            baseline = single_run(stack, clip, args.scale, folder)
            rows.append(
                {
                    "adapters": 1,
                    "mode": "single run (CLI, no queue)",
                    "wall_s": baseline,
                    "segments": 1,
                    "speedup": 1.0,
                }
            )
            for count in counts:
                for adapter in stack.adapters[count:]:
                    adapter.stop(config.stop_grace_s)
                wait_until(f"{count} adapters consuming", consumers_are(vhost.url, count), 60)
                timed = time_job(stack.base_url, clip, args.scale)
                rows.append(
                    {
                        "adapters": count,
                        "mode": "segmented job via the stack",
                        **timed,
                        "speedup": round(baseline / timed["wall_s"], 2),
                    }
                )
    rows = [rows[0], *sorted(rows[1:], key=lambda r: r["adapters"])]
    cpus = os.cpu_count() or 0
    print(
        f"clip: {args.seconds} s {args.size} 25 fps, x{args.scale}, SEGMENT_SECONDS={args.segment_seconds}; "
        f"{cpus} CPUs, no GPU; load average before {load_before}"
    )
    header = f"{'adapters':>8} {'mode':<30} {'segments':>8} {'wall s':>8} {'speed-up':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = (row["adapters"], row["mode"], row["segments"], row["wall_s"], row["speedup"])
        print("{:>8} {:<30} {:>8} {:>8} {:>8}".format(*cells))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    run = {
        "clip_seconds": args.seconds,
        "size": args.size,
        "scale": args.scale,
        "segment_seconds": args.segment_seconds,
        "load_before": load_before,
        "rows": rows,
    }
    # One entry per clip configuration: a rerun replaces its own, other sizes stay.
    previous = json.loads(RESULTS.read_text()).get("runs", []) if RESULTS.exists() else []
    runs = [r for r in previous if (r.get("clip_seconds"), r.get("size")) != (args.seconds, args.size)]
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.platform(), "cpus": cpus, "gpu": None, "runs": [*runs, run]}, indent=2
        )
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
