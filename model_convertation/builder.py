"""Build steps shared by the CLI and the test fixtures: ONNX export, CPU repository, TensorRT engines."""

from __future__ import annotations

import logging
from pathlib import Path

from model_convertation import repository, tensorrt
from model_convertation.catalog import ModelSpec
from model_convertation.export import export_onnx

LOG = logging.getLogger(__name__)


def build_onnx(specs: list[ModelSpec], onnx_dir: Path, *, force: bool = False) -> list[Path]:
    """Export every spec (skipping up-to-date files); returns the ONNX paths."""
    paths = []
    for spec in specs:
        result = export_onnx(spec, onnx_dir, force=force)
        LOG.info("%s %s", "built" if result.built else "up to date:", result.path)
        paths.append(result.path)
    return paths


def build_cpu(
    specs: list[ModelSpec],
    onnx_dir: Path,
    repo: Path,
    options: repository.ServingOptions,
    *,
    force: bool = False,
) -> list[Path]:
    """ONNX files plus the CPU Triton repository entries for `specs`."""
    for spec, onnx_path in zip(specs, build_onnx(specs, onnx_dir, force=force), strict=True):
        changed = repository.write_cpu_model(spec, onnx_path, repo, options)
        LOG.info("%s %s", "wrote" if changed else "up to date:", repo / spec.name)
    return [repo / spec.name for spec in specs]


def build_gpu(
    specs: list[ModelSpec],
    onnx_dir: Path,
    repo: Path,
    options: repository.ServingOptions,
    resolutions: list[tensorrt.Resolution],
    *,
    force: bool = False,
    workspace_gib: float = 4.0,
) -> list[Path]:
    """ONNX files plus TensorRT fp16 engines and their configs (fails early without a GPU)."""
    tensorrt.load_tensorrt()
    for spec, onnx_path in zip(specs, build_onnx(specs, onnx_dir, force=force), strict=True):
        plan = repo / spec.name / "1" / "model.plan"
        stamp = plan.with_name("model.plan.source")
        source = f"{onnx_path.stat().st_mtime_ns}|{resolutions}|{options.max_batch_size}"
        if force or not plan.is_file() or not stamp.is_file() or stamp.read_text() != source:
            tensorrt.build_engine(onnx_path, plan, resolutions, options.max_batch_size, workspace_gib)
            stamp.write_text(source)
        repository.write_gpu_config(spec, repo, options)
        LOG.info("engine ready: %s", plan)
    return [repo / spec.name for spec in specs]
