"""Triton Python-backend model: runs `model.onnx` next to it with OpenVINO (or ONNX Runtime as a fallback).

Copied as `<repo>/<model>/1/model.py` by `python -m model_convertation build --target cpu`. Precision
(parameter ``precision``: auto | f32 | bf16 | int8) is chosen by contract/precision.py from the CPU's flags
and the int8 gate stored beside ``model.int8.onnx``; the choice and its reason are logged.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# numpy/openvino come from the PYTHONPATH the server sets for the stub (model_convertation.server.server_env).
import numpy as np
import triton_python_backend_utils as pb_utils

Runner = Callable[[np.ndarray], np.ndarray]

#: Test-only: names a file; while it exists, every request first sleeps the seconds per frame written in
#: it, so the server is slow but healthy (tests/chaos/test_overload.py). Unset in production.
SLOW_FILE_ENV = "TEST_MODEL_SLOW_FILE"


def slow_switch_delay(frames: int) -> float:
    """Seconds the test-only slow switch (``SLOW_FILE_ENV``) asks ``frames`` to take; 0 when it is off."""
    name = os.environ.get(SLOW_FILE_ENV)
    if not name:
        return 0.0
    try:
        return max(0.0, float(Path(name).read_text().strip() or 0)) * frames
    except (OSError, ValueError):
        return 0.0


def cancelled(request: Any) -> bool:
    """Whether the client gave up on ``request`` (Triton marks it; older servers cannot say)."""
    check = getattr(request, "is_cancelled", None)
    try:
        return bool(check()) if check is not None else False
    except Exception:  # a server without cancellation support for this request
        return False


def choose_precision(version: Path, requested: str) -> tuple[Path, str, str]:
    """(ONNX file, OpenVINO inference precision, reason) for ``requested`` here (contract/precision.py)."""
    # The server puts the project on PYTHONPATH (model_convertation.server.server_env).
    from contract.precision import choose, cpu_flags

    gate_file = version / "model.int8.gate.json"
    passed: bool | None = None
    if (version / "model.int8.onnx").is_file() and gate_file.is_file():
        passed = bool(json.loads(gate_file.read_text()).get("passed"))
    choice = choose(requested, cpu_flags(), passed)
    if choice.precision == "int8":
        return version / "model.int8.onnx", "f32", choice.reason  # the int8 graph; float parts in f32
    return version / "model.onnx", choice.precision, choice.reason


def _openvino_runner(
    version: Path, precision: str, threads: int, hint: str, streams: int, pinning: bool
) -> tuple[Runner, str]:
    """Compile with OpenVINO in the precision choose_precision picks; one request per stream."""
    import openvino as ov

    core = ov.Core()
    onnx_path, inference, reason = choose_precision(version, precision)
    label = "int8" if onnx_path.name == "model.int8.onnx" else inference
    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": inference, "PERFORMANCE_HINT": hint.upper()}
    if threads > 0:
        config["INFERENCE_NUM_THREADS"] = threads
    if streams > 0:
        config["NUM_STREAMS"] = streams
    if not pinning:
        config["ENABLE_CPU_PINNING"] = False
    compiled = core.compile_model(str(onnx_path), "CPU", config)
    jobs = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    queue = ov.AsyncInferQueue(compiled, jobs)
    results: dict[int, np.ndarray] = {}

    def done(request: Any, chunk: int) -> None:
        # The request's output tensor is reused by its next job: copy it out now.
        results[chunk] = np.array(request.get_output_tensor(0).data, copy=True)

    queue.set_callback(done)

    def run(frames: np.ndarray) -> np.ndarray:
        # THROUGHPUT streams are single-threaded: split the batch so that every stream gets frames.
        chunks = np.array_split(frames, min(jobs, frames.shape[0]))
        results.clear()
        for index, chunk in enumerate(chunks):
            queue.start_async({0: chunk}, index, share_inputs=True)
        queue.wait_all()
        if len(results) != len(chunks):
            raise RuntimeError(f"OpenVINO finished {len(results)} of {len(chunks)} chunks")
        return results[0] if len(chunks) == 1 else np.concatenate([results[i] for i in range(len(chunks))])

    return run, f"openvino-{label}-{hint}x{jobs} ({reason})"


def _onnxruntime_runner(onnx_path: Path, threads: int) -> tuple[Runner, str]:
    """ONNX Runtime CPU session (fp32)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run(frames: np.ndarray) -> np.ndarray:
        return session.run(["output"], {"input": frames})[0]

    return run, "onnxruntime-fp32"


class TritonPythonModel:
    """Upscales uint8 [N,H,W,3] batches; requests of equal frame size are run as one batch."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load the ONNX file with the runtime named in the config parameters."""
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        version = Path(args["model_repository"]) / args["model_version"]
        onnx_path = version / "model.onnx"
        runtime = params.get("runtime", "openvino")
        threads = int(params.get("threads", "0"))
        hint = params.get("hint", "throughput").lower()
        if hint not in ("throughput", "latency"):
            raise pb_utils.TritonModelException(f"parameter hint must be throughput or latency, not {hint!r}")
        # Instances are separate processes: pinned, each would put its first stream on the same core.
        instances = sum(int(group.get("count", 1)) for group in config.get("instance_group", []))
        self.logger = pb_utils.Logger
        if runtime == "openvino":
            try:
                streams = int(params.get("streams", "0"))
                self.run, self.runtime = _openvino_runner(
                    version, params.get("precision", "auto"), threads, hint, streams, instances <= 1
                )
            except ImportError:
                self.logger.log_warn("openvino is not importable; falling back to ONNX Runtime")
                self.run, self.runtime = _onnxruntime_runner(onnx_path, threads)
        else:
            self.run, self.runtime = _onnxruntime_runner(onnx_path, threads)
        self.logger.log_info(f"{args['model_name']}: {version} on {self.runtime}")

    def execute(self, requests: list[Any]) -> list[Any]:
        """Group requests by frame size, run each group once, split the result back."""
        frames = [pb_utils.get_input_tensor_by_name(request, "input").as_numpy() for request in requests]
        responses: list[Any] = [None] * len(requests)
        groups: dict[tuple[int, ...], list[int]] = {}
        delay = slow_switch_delay(sum(batch.shape[0] for batch in frames if batch.ndim == 4))
        if delay > 0:
            time.sleep(delay)
        for index, batch in enumerate(frames):
            if cancelled(requests[index]):
                # The client gave up on it (its deadline passed): its retry is on the way, do not run it.
                self.logger.log_info("skipped a request its client gave up on")
                error = pb_utils.TritonError("request cancelled by the client")
                responses[index] = pb_utils.InferenceResponse(output_tensors=[], error=error)
                continue
            if batch.ndim != 4 or batch.shape[3] != 3:
                error = pb_utils.TritonError(f"input must be [N,H,W,3] uint8, got {list(batch.shape)}")
                responses[index] = pb_utils.InferenceResponse(output_tensors=[], error=error)
                continue
            groups.setdefault(batch.shape[1:], []).append(index)
        for indices in groups.values():
            joined = frames[indices[0]] if len(indices) == 1 else np.concatenate([frames[i] for i in indices])
            try:
                result = self.run(np.ascontiguousarray(joined))
            except Exception as exc:  # a bad request must not take the model down
                for i in indices:
                    responses[i] = pb_utils.InferenceResponse(
                        output_tensors=[], error=pb_utils.TritonError(str(exc))
                    )
                continue
            start = 0
            for i in indices:
                count = frames[i].shape[0]
                tensor = pb_utils.Tensor("output", result[start : start + count])
                responses[i] = pb_utils.InferenceResponse(output_tensors=[tensor])
                start += count
        return responses
