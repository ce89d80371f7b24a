"""ONNX → TensorRT fp16 engine (int8 too for a QDQ graph) with a profile covering the declared resolutions."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class TargetUnavailable(RuntimeError):
    """The GPU target cannot be built on this machine (no GPU or no TensorRT)."""


@dataclass(frozen=True)
class Resolution:
    """A frame size the operator expects to serve."""

    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Resolution:
        """`1280x720` → Resolution(1280, 720)."""
        width, sep, height = text.lower().partition("x")
        if not sep or not width.isdigit() or not height.isdigit() or int(width) < 1 or int(height) < 1:
            raise ValueError(f"resolution must look like 1280x720, got {text!r}")
        return cls(int(width), int(height))


def _gpu_present() -> bool:
    """nvidia-smi lists at least one GPU."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return False
    try:
        done = subprocess.run([binary, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def load_tensorrt() -> Any:
    """Import TensorRT after checking for a GPU; TargetUnavailable with a one-line reason otherwise."""
    if not _gpu_present():
        raise TargetUnavailable(
            "no NVIDIA GPU found (nvidia-smi -L lists none); use --target cpu on this machine"
        )
    try:
        import tensorrt
    except ImportError as exc:
        raise TargetUnavailable("TensorRT is not installed: pip install tensorrt (needs CUDA)") from exc
    return tensorrt


def profile_shapes(resolutions: list[Resolution], max_batch: int) -> tuple[tuple[int, ...], ...]:
    """(min, opt, max) NHWC shapes: from 1 frame of the smallest size up to max_batch of the largest."""
    if not resolutions:
        raise ValueError("at least one resolution is needed for the TensorRT profile")
    smallest = (min(r.height for r in resolutions), min(r.width for r in resolutions))
    largest = (max(r.height for r in resolutions), max(r.width for r in resolutions))
    first = resolutions[0]
    return (1, *smallest, 3), (max(1, max_batch // 2), first.height, first.width, 3), (max_batch, *largest, 3)


def build_engine(
    onnx_path: Path,
    plan_path: Path,
    resolutions: list[Resolution],
    max_batch: int,
    workspace_gib: float = 4.0,
    int8: bool = False,
) -> Path:
    """Parse the ONNX file, build an fp16 (``int8``: int8 where the QDQ graph says) engine to `plan_path`."""
    trt = load_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.FP16)
    if int8:  # explicit quantization: the graph's Q/DQ scales, no TensorRT calibration
        config.set_flag(trt.BuilderFlag.INT8)
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * (1 << 30)))
    profile = builder.create_optimization_profile()
    profile.set_shape("input", *profile_shapes(resolutions, max_batch))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    partial = plan_path.with_name(f".{plan_path.name}.tmp")
    partial.write_bytes(bytes(serialized))
    partial.replace(plan_path)
    return plan_path
