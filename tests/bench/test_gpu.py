"""``python -m bench.gpu --device cpu --quick``: the GPU benchmark's smoke test on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_cpu_run_writes_every_section_and_prints_the_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.gpu", "--device", "cpu", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((tmp_path / "gpu.json").read_text())
    assert data["complete"] is True and data["meta"]["device"] == "cpu"
    rows = data["rows"]
    e2e = [row for row in rows if row["section"] == "e2e"]
    assert [row["pipelines"] for row in e2e] == [1, 2]
    for row in e2e:
        assert row["fps"] > 0 and row["model_only_fps"] > 0 and 0 < row["busy_share"] <= 1
        assert row["output"] == "512x288"  # 128x72 at the model's x4
    assert {row["encoders"] for row in rows if row["section"] == "x264"} == {1, 2}
    model = [row for row in rows if row["section"] == "model"]
    assert [(row["batch"], row["dtype"]) for row in model] == [(1, "fp32"), (2, "fp32")]
    assert all(isinstance(row["fps"], float) and row["fps"] > 0 for row in model)
    # Graphs and compile need CUDA: the skip is recorded, not silent.
    assert any(skip["what"] == "graphs" for skip in data["skipped"])
    for heading in ("## e2e", "## x264", "## model"):
        assert heading in done.stdout
    assert "model_only_fps" in done.stdout


def test_a_tiny_budget_skips_and_still_writes_valid_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.gpu",
            "--device",
            "cpu",
            "--quick",
            "--budget-s",
            "0",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((tmp_path / "gpu.json").read_text())
    assert data["rows"] == [] and data["complete"] is True
    assert [skip["what"] for skip in data["skipped"]] == ["section_e2e", "section_model", "section_graphs"]
