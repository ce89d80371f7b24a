"""CLI errors are one line and a non-zero exit status, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model_convertation.tensorrt import Resolution, profile_shapes

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m model_convertation ...` in the project root."""
    return subprocess.run(
        [sys.executable, "-m", "model_convertation", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], done.stderr


def test_gpu_target_without_gpu_is_a_clear_error(tmp_path: Path) -> None:
    from model_convertation.tensorrt import _gpu_present

    if _gpu_present():
        pytest.skip("this machine has a GPU; the error path cannot be exercised")
    done = cli("build", "--target", "gpu", "--models", "realesr-animevideov3-x4", "--repo", str(tmp_path))
    assert_one_line_error(done, "GPU")
    assert not (tmp_path / "realesr-animevideov3-x4" / "1" / "model.plan").exists()


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    assert_one_line_error(cli("build", "--models", "nope", "--onnx-dir", str(tmp_path)), "unknown model")


def test_serve_missing_repository_is_a_clear_error(tmp_path: Path) -> None:
    assert_one_line_error(cli("serve", "--repo", str(tmp_path / "missing")), "does not exist")


def test_profile_covers_declared_resolutions() -> None:
    low, opt, high = profile_shapes([Resolution.parse("1280x720"), Resolution.parse("640x360")], 8)
    assert low == (1, 360, 640, 3) and opt == (4, 720, 1280, 3) and high == (8, 720, 1280, 3)
    with pytest.raises(ValueError, match="1280x720"):
        Resolution.parse("720p")


@pytest.mark.gpu
def test_gpu_target_builds_an_engine(tmp_path: Path) -> None:
    from model_convertation.tensorrt import _gpu_present

    if not _gpu_present():
        pytest.skip("needs an NVIDIA GPU with TensorRT")
    done = cli(
        "build",
        "--target",
        "gpu",
        "--models",
        "realesr-animevideov3-x4",
        "--repo",
        str(tmp_path),
        "--resolutions",
        "176x144,640x360",
        "--instances",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "realesr-animevideov3-x4" / "1" / "model.plan").stat().st_size > 1_000_000
    config = (tmp_path / "realesr-animevideov3-x4" / "config.pbtxt").read_text()
    assert 'platform: "tensorrt_plan"' in config and "count: 2 kind: KIND_GPU" in config
