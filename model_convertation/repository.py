"""Triton model repository writer: config.pbtxt plus version folder `1/` for the CPU and GPU targets."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from model_convertation.catalog import ModelSpec

TEMPLATE = Path(__file__).with_name("cpu_model.py")


@dataclass(frozen=True)
class ServingOptions:
    """Knobs that end up in config.pbtxt."""

    max_batch_size: int = 8
    max_queue_delay_us: int = 100  # an idle instance should not wait for company
    #: The longest a request waits in the queue before Triton rejects it (REJECT, not run late). A request
    #: may ask for less (the adapter sends each call's deadline), so work whose client gave up is dropped
    #: instead of being run ahead of the retry (issue 26). The default is the adapter's longest deadline.
    queue_timeout_us: int = 1_800_000_000
    instances: int = 1
    runtime: str = "openvino"  # CPU only: openvino | onnxruntime
    precision: str = "auto"  # auto | f32 | bf16 | int8 (contract/precision.py); GPU: int8 or fp16
    threads: int = 0  # CPU only: 0 = runtime default (all cores)
    hint: str = "throughput"  # CPU only: OpenVINO performance hint, throughput | latency
    streams: int = 0  # CPU only: OpenVINO streams (one request each), 0 = the hint's choice (one per core)


_IO = """input [
  {{ name: "input" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] }}
]
output [
  {{ name: "output" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] }}
]
dynamic_batching {{
  max_queue_delay_microseconds: {delay}
  default_queue_policy {{
    timeout_action: REJECT default_timeout_microseconds: {queue_timeout} allow_timeout_override: true
  }}
}}
instance_group [ {{ count: {count} kind: {kind} }} ]
"""


def cpu_config(spec: ModelSpec, options: ServingOptions) -> str:
    """config.pbtxt for the Python-backend model running ONNX on the CPU."""
    parameters = {
        "runtime": options.runtime,
        "precision": options.precision,
        "threads": str(options.threads),
        "hint": options.hint,
        "streams": str(options.streams),
        "scale": str(spec.scale),
    }
    params = "\n".join(
        f'  {{ key: "{key}" value: {{ string_value: "{value}" }} }},' for key, value in parameters.items()
    )
    return (
        f'name: "{spec.name}"\nbackend: "python"\nmax_batch_size: {options.max_batch_size}\n'
        + _IO.format(
            delay=options.max_queue_delay_us,
            queue_timeout=options.queue_timeout_us,
            count=options.instances,
            kind="KIND_CPU",
        )
        + f"parameters [\n{params.rstrip(',')}\n]\n"
    )


def gpu_config(spec: ModelSpec, options: ServingOptions) -> str:
    """config.pbtxt for the TensorRT engine."""
    return (
        f'name: "{spec.name}"\nplatform: "tensorrt_plan"\nmax_batch_size: {options.max_batch_size}\n'
        + _IO.format(
            delay=options.max_queue_delay_us,
            queue_timeout=options.queue_timeout_us,
            count=options.instances,
            kind="KIND_GPU",
        )
        + f'parameters [ {{ key: "scale" value: {{ string_value: "{spec.scale}" }} }} ]\n'
    )


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and path.read_bytes() == content:
        return False
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_bytes(content)
    partial.replace(path)
    return True


def _copy_if_changed(source: Path, target: Path) -> bool:
    if (
        target.is_file()
        and target.stat().st_size == source.stat().st_size
        and target.read_bytes() == source.read_bytes()
    ):
        return False
    partial = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, partial)
    partial.replace(target)
    return True


INT8_FILES = ("model.int8.onnx", "model.int8.gate.json")


def write_cpu_model(
    spec: ModelSpec, onnx_path: Path, repo: Path, options: ServingOptions, int8_path: Path | None = None
) -> bool:
    """Write `<repo>/<model>/{config.pbtxt,1/model.py,1/model.onnx}`, plus the gated int8 variant when given
    (``1/model.int8.onnx`` and its ``model.int8.gate.json``); True when anything changed."""
    from model_convertation.gate import gate_path

    version = repo / spec.name / "1"
    version.mkdir(parents=True, exist_ok=True)
    changed = False
    for name in ["model.plan", *(INT8_FILES if int8_path is None else ())]:
        changed |= (version / name).is_file()
        (version / name).unlink(missing_ok=True)
    changed |= _write_if_changed(repo / spec.name / "config.pbtxt", cpu_config(spec, options).encode())
    changed |= _write_if_changed(version / "model.py", TEMPLATE.read_bytes())
    changed |= _copy_if_changed(onnx_path, version / "model.onnx")
    if int8_path is not None:
        changed |= _copy_if_changed(int8_path, version / INT8_FILES[0])
        changed |= _copy_if_changed(gate_path(int8_path), version / INT8_FILES[1])
    return changed


def write_gpu_config(spec: ModelSpec, repo: Path, options: ServingOptions) -> bool:
    """Write the TensorRT config.pbtxt and drop CPU-only files from `1/`."""
    version = repo / spec.name / "1"
    version.mkdir(parents=True, exist_ok=True)
    for stale in ("model.py", "model.onnx", *INT8_FILES):
        (version / stale).unlink(missing_ok=True)
    return _write_if_changed(repo / spec.name / "config.pbtxt", gpu_config(spec, options).encode())
