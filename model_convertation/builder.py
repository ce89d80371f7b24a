"""Build steps shared by the CLI and test fixtures: ONNX export, int8, CPU repository, TensorRT engines."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contract.precision import INT8_GATE_PASSED, choose, cpu_flags
from model_convertation import gate, quantize, repository, tensorrt
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


def wants_int8(spec: ModelSpec, precision: str, flags: Iterable[str] | None = None) -> bool:
    """Whether a build for ``precision`` quantizes ``spec``: int8 always; auto where its int8 passed the
    gate before and this CPU (``flags``, else /proc/cpuinfo's) would run it, i.e. has no native bf16."""
    if precision == "int8":
        return True
    if precision != "auto" or not INT8_GATE_PASSED.get(spec.name, False):
        return False
    return choose("auto", cpu_flags() if flags is None else flags, True).precision == "int8"


def build_int8(spec: ModelSpec, f32_path: Path, *, force: bool = False) -> tuple[Path, dict[str, Any]]:
    """The QDQ int8 ONNX beside ``f32_path`` and its gate verdict (gated again whenever it changed)."""
    tuned = quantize.fine_tunes(spec)
    int8_path, built = quantize.quantize(spec, f32_path, force=force, fine_tune=tuned)
    verdict = gate.read_gate(int8_path)
    digest = quantize.fingerprint(f32_path, fine_tune=tuned)
    if built or verdict is None or verdict.get("source_fingerprint") != digest:
        provenance = {"recipe": quantize.recipe_of(int8_path), "source_fingerprint": digest}
        verdict = gate.run_gate(spec.name, spec.scale, f32_path, int8_path, provenance)
    outcome = "passed" if verdict["passed"] else f"failed ({'; '.join(verdict['failed'])})"
    LOG.info(
        "%s int8 gate %s: PSNR drop %.2f dB, BRISQUE rise %.2f, new gradient steps %d",
        spec.name,
        outcome,
        verdict["psnr_drop_db"],
        verdict["brisque_rise"],
        verdict["new_steps"],
    )
    return int8_path, verdict


def build_int8_variants(
    specs: list[ModelSpec], paths: list[Path], precision: str, *, force: bool = False
) -> list[Path | None]:
    """Per spec, the int8 file when this precision wants one and its gate passed, else None."""
    found: list[Path | None] = []
    for spec, f32_path in zip(specs, paths, strict=True):
        if not wants_int8(spec, precision):
            found.append(None)
            continue
        int8_path, verdict = build_int8(spec, f32_path, force=force)
        found.append(int8_path if verdict["passed"] else None)
    return found


def build_cpu(
    specs: list[ModelSpec],
    onnx_dir: Path,
    repo: Path,
    options: repository.ServingOptions,
    *,
    force: bool = False,
) -> list[Path]:
    """ONNX files (int8 too, see ``wants_int8``) plus the CPU Triton repository entries for `specs`."""
    paths = build_onnx(specs, onnx_dir, force=force)
    int8 = build_int8_variants(specs, paths, options.precision, force=force)
    for spec, onnx_path, int8_path in zip(specs, paths, int8, strict=True):
        changed = repository.write_cpu_model(spec, onnx_path, repo, options, int8_path)
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
    """ONNX files plus TensorRT fp16 engines (``precision`` int8: from the gated QDQ graph) and configs."""
    tensorrt.load_tensorrt()
    paths = build_onnx(specs, onnx_dir, force=force)
    int8 = build_int8_variants(specs, paths, "int8" if options.precision == "int8" else "f32", force=force)
    for spec, f32_path, int8_path in zip(specs, paths, int8, strict=True):
        onnx_path = int8_path or f32_path
        plan = repo / spec.name / "1" / "model.plan"
        stamp = plan.with_name("model.plan.source")
        source = f"{onnx_path.name}|{onnx_path.stat().st_mtime_ns}|{resolutions}|{options.max_batch_size}"
        if force or not plan.is_file() or not stamp.is_file() or stamp.read_text() != source:
            tensorrt.build_engine(
                onnx_path,
                plan,
                resolutions,
                options.max_batch_size,
                workspace_gib,
                int8=int8_path is not None,
            )
            stamp.write_text(source)
        repository.write_gpu_config(spec, repo, options)
        LOG.info("engine ready: %s", plan)
    return [repo / spec.name for spec in specs]
