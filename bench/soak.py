"""Soak test of ``python -m adapter upscale`` (in-process model) in a loop under CPU contention.

Each run is a real subprocess with a wall-clock limit. A run past its limit is a hang: the CLI's
SIGUSR1 handler (``faulthandler``, registered in ``adapter.cli``) prints every thread's stack to its
stderr, which is kept as the run's dump before the process is killed. Contention comes from
``--busy`` busy-loop processes (one per core by default).
Run: ``.venv/bin/python -m bench.soak [--runs 40] [--seconds 8] [--timeout 120] [--busy N]``;
prints a table and writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.fixtures.media import make_clip

ROOT = Path(__file__).resolve().parents[1]
MODEL = "realesr-animevideov3-x2"
#: Seconds a hung process gets to write its stack dump after SIGUSR1.
DUMP_WAIT_S = 5.0


@dataclass
class Run:
    """One CLI run: how it ended, how long it took, and the stack dump when it hung."""

    index: int
    outcome: str  # "ok", "failed" or "hang"
    seconds: float
    returncode: int | None
    tail: str
    dump: str | None = None


def _busy() -> None:
    """Burn one core until killed."""
    while True:
        pass


def _dump_and_kill(proc: subprocess.Popen[str]) -> str:
    """Ask the hung CLI for its stacks (SIGUSR1), then kill it; its stderr holds the dump."""
    proc.send_signal(signal.SIGUSR1)
    time.sleep(DUMP_WAIT_S)
    proc.kill()
    _, err = proc.communicate(timeout=30)
    return err


def one_run(index: int, clip: Path, out_dir: Path, timeout_s: float, call_timeout_s: float) -> Run:
    """Run the CLI once on ``clip``; a run past ``timeout_s`` is a hang and gets a stack dump."""
    output = out_dir / f"run{index}.mp4"
    args = [sys.executable, "-m", "adapter", "upscale", str(clip), "-o", str(output), "--quiet"]
    args += ["--model", MODEL, "--preset", "ultrafast", "--timeout", str(call_timeout_s)]
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    started = time.monotonic()
    pipe = subprocess.PIPE
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        dump = _dump_and_kill(proc)
        return Run(index, "hang", round(time.monotonic() - started, 1), None, dump[-400:], dump)
    output.unlink(missing_ok=True)
    outcome = "ok" if proc.returncode == 0 else "failed"
    # A run the CLI's own backstop ended (faulthandler) carries its stack dump on stderr.
    stacks = err if "most recent call first" in err else None
    seconds = round(time.monotonic() - started, 1)
    return Run(index, outcome, seconds, proc.returncode, err.strip()[-400:], stacks)


def soak(runs: int, seconds: float, timeout_s: float, busy: int, call_timeout_s: float) -> list[Run]:
    """``runs`` CLI runs on a fresh clip with ``busy`` busy-loop processes running alongside."""
    burners = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(busy)]
    for burner in burners:
        burner.start()
    results: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
            clip = Path(tmp) / "clip.mp4"
            make_clip(clip, size="96x64", rate="25", seconds=seconds, audio_tracks=1)
            for index in range(runs):
                run = one_run(index, clip, Path(tmp), timeout_s, call_timeout_s)
                results.append(run)
                print(f"run {index:3d}: {run.outcome:6s} {run.seconds:7.1f} s", flush=True)
    finally:
        for burner in burners:
            burner.kill()
            burner.join()
    return results


def table(results: list[Run]) -> str:
    """Runs, hangs and failures, with the slowest and median run times."""
    times = sorted(r.seconds for r in results if r.outcome == "ok")
    median = times[len(times) // 2] if times else 0.0
    rows = [
        ("runs", str(len(results))),
        ("ok", str(sum(r.outcome == "ok" for r in results))),
        ("failed", str(sum(r.outcome == "failed" for r in results))),
        ("hangs", str(sum(r.outcome == "hang" for r in results))),
        ("median s", f"{median:.1f}"),
        ("slowest s", f"{times[-1]:.1f}" if times else "-"),
    ]
    return "\n".join(f"{name:10s} {value:>8s}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and write bench/results/soak.json; 1 when any run hung."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--runs", type=int, default=40)
    cli.add_argument("--seconds", type=float, default=8.0, help="clip length (25 fps)")
    cli.add_argument("--timeout", type=float, default=120.0, help="seconds before a run counts as hung")
    cli.add_argument("--call-timeout", type=float, default=20.0, help="the CLI's --timeout (one model call)")
    cli.add_argument("--busy", type=int, default=os.cpu_count() or 1, help="busy-loop processes")
    cli.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = cli.parse_args(argv)
    results = soak(args.runs, args.seconds, args.timeout, args.busy, args.call_timeout)
    print(table(results))
    for run in results:
        if run.dump:
            print(f"\n--- stacks of {run.outcome} run {run.index} ---\n{run.dump}")
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "runs": args.runs,
        "clip_seconds": args.seconds,
        "timeout_s": args.timeout,
        "busy": args.busy,
        "call_timeout_s": args.call_timeout,
        "cpus": os.cpu_count(),
        "hangs": sum(r.outcome == "hang" for r in results),
        "failed": sum(r.outcome == "failed" for r in results),
        "results": [asdict(r) for r in results],
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 1 if record["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
