"""Triton Python-backend model: runs `model.onnx` next to it with OpenVINO (or ONNX Runtime as a fallback).

Copied as `<repo>/<model>/1/model.py` by `python -m model_convertation build --target cpu`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# numpy/openvino come from the PYTHONPATH the server sets for the stub (model_convertation.server.server_env).
import numpy as np
import triton_python_backend_utils as pb_utils

Runner = Callable[[np.ndarray], np.ndarray]


def _openvino_runner(onnx_path: Path, precision: str, threads: int) -> tuple[Runner, str]:
    """Compile with OpenVINO: bf16 where the CPU has AVX-512 BF16/AMX, else f32."""
    import openvino as ov

    core = ov.Core()
    if precision == "auto":
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        precision = "bf16" if "BF16" in capabilities else "f32"
    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
    if threads > 0:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = core.compile_model(str(onnx_path), "CPU", config)
    request = compiled.create_infer_request()

    def run(frames: np.ndarray) -> np.ndarray:
        return np.array(request.infer({0: frames}, share_inputs=True)[0], copy=True)

    return run, f"openvino-{precision}"


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
        onnx_path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        runtime = params.get("runtime", "openvino")
        threads = int(params.get("threads", "0"))
        self.logger = pb_utils.Logger
        if runtime == "openvino":
            try:
                self.run, self.runtime = _openvino_runner(onnx_path, params.get("precision", "auto"), threads)
            except ImportError:
                self.logger.log_warn("openvino is not importable; falling back to ONNX Runtime")
                self.run, self.runtime = _onnxruntime_runner(onnx_path, threads)
        else:
            self.run, self.runtime = _onnxruntime_runner(onnx_path, threads)
        self.logger.log_info(f"{args['model_name']}: {onnx_path} on {self.runtime}")

    def execute(self, requests: list[Any]) -> list[Any]:
        """Group requests by frame size, run each group once, split the result back."""
        frames = [pb_utils.get_input_tensor_by_name(request, "input").as_numpy() for request in requests]
        responses: list[Any] = [None] * len(requests)
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, batch in enumerate(frames):
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
