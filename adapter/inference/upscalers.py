"""Upscalers: one interface, served by Triton (gRPC) or run in-process (OpenVINO / ONNX Runtime).

Every upscaler takes uint8 RGB batches ``[N, H, W, 3]`` and returns ``[N, sH, sW, 3]``; ``infer`` is
thread-safe so the pipeline can keep ``in_flight`` requests running at once. Frames larger than a
tile are cut into overlapping tiles whose margins are dropped, so no seams show.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from adapter.errors import (
    InferenceUnavailableError,
    InvalidInputError,
    ModelContractError,
    ModelOverloadedError,
    ModelUnavailableError,
)
from adapter.inference.base import Upscaler, check_output
from adapter.inference.deadline import CallDeadlines, DeadlineRule, Lanes, Verdict, judge_failure
from adapter.inference.tiling import available_memory, fit_tile, least_tile, per_call, pixel_budget
from adapter.inference.watchdog import Watchdog
from adapter.regions.field import tile_overlap
from contract.catalogue import reason
from contract.models import SERVED as MODELS  # Triton names incl. Real-CUGAN denoise files
from contract.precision import Choice, choose, cpu_flags

log = logging.getLogger(__name__)

#: Seconds the look at the model's readiness after a failed call may take.
HEALTH_TIMEOUT_S = 2.0
#: Seconds the client waits beyond a call's deadline, so that Triton's own refusal of a request that
#: waited too long in its queue (the model's queue policy) reaches the client as the answer.
QUEUE_GRACE_S = 2.0
#: An answer within this share of its deadline is "in time": the server is no longer behind.
IN_TIME_SHARE = 0.5


def int8_verdict(int8_path: Path) -> bool | None:
    """Whether ``<model>.int8.onnx`` passed its quality gate (None: no int8 file or no readable verdict)."""
    gate = int8_path.with_name(int8_path.name.removesuffix(".onnx") + ".gate.json")
    if not int8_path.is_file():
        return None
    try:
        return bool(json.loads(gate.read_text())["passed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def local_precision(model: str, models_dir: Path, requested: str) -> tuple[Path, Choice]:
    """The ONNX file and precision ``requested`` gives ``model`` on this CPU (contract/precision.py)."""
    int8_path = Path(models_dir) / f"{model}.int8.onnx"
    choice = choose(requested, cpu_flags(), int8_verdict(int8_path))
    return (int8_path if choice.precision == "int8" else Path(models_dir) / f"{model}.onnx"), choice


class LocalUpscaler:
    """In-process ``<models_dir>/<model>.onnx`` (or its gated ``.int8.onnx``) on OpenVINO, else ONNX Runtime.

    ``precision`` (auto | f32 | bf16 | int8) is resolved by contract/precision.py from the CPU's flags.
    """

    def __init__(
        self,
        model: str,
        models_dir: Path,
        *,
        max_batch: int = 2,
        runtime: str = "auto",
        precision: str = "auto",
    ) -> None:
        path, self.choice = local_precision(model, models_dir, precision)
        if not path.is_file():
            raise InferenceUnavailableError(reason("job.model_file_missing", path=str(path)))
        self.scale = MODELS[model]
        self.max_batch = max_batch
        self.in_flight = 1
        self.device = "cpu"
        self._local = threading.local()
        # OpenVINO's Python calls that keep the GIL (tensor getters and setters) are made one thread at
        # a time: two threads in them at once froze the process under CPU contention (bench/soak.py:
        # both in get_tensor, every other thread waiting for the GIL). Inference itself runs unlocked.
        self._api = threading.Lock()
        self.runtime = runtime
        if runtime in ("auto", "openvino"):
            try:
                self._compile_openvino(path)
                log.info("%s: %s on OpenVINO (%s)", model, self.choice.precision, self.choice.reason)
                return
            except Exception as exc:  # any OpenVINO failure falls back to ONNX Runtime
                if runtime == "openvino":
                    raise InferenceUnavailableError(reason("job.openvino_failed")) from exc
                log.warning("OpenVINO unavailable (%s); using ONNX Runtime", exc)
        # The int8 gate is measured with OpenVINO; ONNX Runtime runs the f32 graph.
        f32_path = Path(models_dir) / f"{model}.onnx"
        if path != f32_path:
            self.choice = Choice("f32", "ONNX Runtime runs the f32 graph (int8 is gated on OpenVINO)")
        self._open_onnxruntime(f32_path)
        log.info("%s: f32 on ONNX Runtime (%s)", model, self.choice.reason)

    def _compile_openvino(self, path: Path) -> None:
        import openvino as ov

        core = ov.Core()
        # THROUGHPUT: one single-threaded stream per core (or pair), each with its own request. Independent
        # streams do not wait for each other at every layer the way one multi-threaded request does, which
        # cuts CPU time per frame by about a third and keeps working when the encoder takes a core away.
        # An int8 graph keeps its int8 convolutions; its float glue runs in f32.
        inference = "bf16" if self.choice.precision == "bf16" else "f32"
        config: dict[str, Any] = {"PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": inference}
        self._compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.in_flight = max(1, int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
        self.runtime = "openvino"

    def _open_onnxruntime(self, path: Path) -> None:
        import onnxruntime as ort

        self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.runtime = "onnxruntime"

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Run the model on one batch in this thread's own request."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        if self.runtime == "openvino":
            import openvino as ov

            request = getattr(self._local, "request", None)
            with self._api:
                if request is None:
                    request = self._local.request = self._compiled.create_infer_request()
                request.set_input_tensor(ov.Tensor(batch, shared_memory=True))
            request.infer()
            with self._api:
                out = np.array(request.get_output_tensor(0).data, copy=True)
        else:
            out = self._session.run(["output"], {"input": batch})[0]
        return check_output(batch, out, self.scale)

    def close(self) -> None:
        """Drop the compiled model."""
        self._compiled = None
        self._session = None


class TritonUpscaler:
    """A model served by Triton over gRPC, optionally through system shared memory when on the same host."""

    def __init__(
        self,
        model: str,
        url: str,
        *,
        timeout_s: float = 60,
        shared_memory: bool = False,
        in_flight: int = 2,
    ) -> None:
        import tritonclient.grpc as grpcclient

        self._grpc = grpcclient
        self.model = model
        self.scale = MODELS[model]
        self.in_flight = in_flight
        self._timeout = timeout_s
        #: Each inference call's deadline: from its size and the measured speed, never below ``timeout_s``.
        self.deadlines = CallDeadlines(DeadlineRule(floor_s=timeout_s), in_flight)
        self._lanes = Lanes(in_flight)
        self._shared = shared_memory
        self._local = threading.local()
        self._regions: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        try:
            self._client = grpcclient.InferenceServerClient(url)
        except Exception as exc:
            raise ModelUnavailableError(reason("job.triton_unreachable", url=url)) from exc
        self.max_batch = self._check_contract()  # also sets ``device`` from the served config

    def _call(self, what: str, fn: Any, *args: Any, timeout_s: float | None = None, **kwargs: Any) -> Any:
        from tritonclient.utils import InferenceServerException

        try:
            return fn(*args, client_timeout=timeout_s or self._timeout, **kwargs)
        except InferenceServerException as exc:
            detail = str(exc.message())
            why = reason("job.triton_call_failed", call=what, detail=detail)
            verdict = judge_failure(str(exc.status()), detail, self._ready)
            if verdict is Verdict.OVERLOADED:
                log.warning("%s: model server behind (%s); waiting, not an attempt", self.model, why)
                raise ModelOverloadedError(reason("job.model_overloaded")) from exc
            if verdict is Verdict.DOWN:
                raise ModelUnavailableError(why) from exc
            raise InferenceUnavailableError(why) from exc

    def _ready(self) -> bool:
        """A short look at the model's readiness (tells a dead server from a slow call)."""
        return bool(self._client.is_model_ready(self.model, client_timeout=HEALTH_TIMEOUT_S))

    def _infer(self, pixels: int, *args: Any, **kwargs: Any) -> Any:
        """One inference call with a deadline fitted to its ``pixels``; its time feeds the measured speed."""
        deadline = self.deadlines.deadline_s(pixels)
        self._lanes.enter()
        started = time.monotonic()
        in_time = False
        try:
            # ``timeout`` (µs) is the request's own: Triton's queue policy rejects it once it has waited
            # that long, so work this client gave up on is dropped instead of run ahead of its retry.
            result = self._call(
                "inference", self._client.infer, self.model, *args,
                timeout=int(deadline * 1e6), timeout_s=deadline + QUEUE_GRACE_S, **kwargs,
            )  # fmt: skip
        except ModelOverloadedError:
            self.deadlines.meter.gave_up(pixels, time.monotonic() - started)
            self._lanes.behind()
            raise
        else:
            elapsed = time.monotonic() - started
            self.deadlines.meter.answered(pixels, elapsed)
            in_time = elapsed <= deadline * IN_TIME_SHARE
            return result
        finally:
            self._lanes.leave(in_time=in_time)

    def _check_contract(self) -> int:
        """Compare the served model's metadata and config with the model contract; returns max_batch_size."""
        if not self._call("readiness check", self._client.is_model_ready, self.model):
            raise ModelUnavailableError(reason("job.model_not_ready", model=self.model))
        meta = self._call("metadata", self._client.get_model_metadata, self.model, as_json=True)
        config = self._call("config", self._client.get_model_config, self.model, as_json=True)["config"]
        batch = int(config.get("max_batch_size", 0))
        problems = []
        if batch <= 0:
            problems.append("max_batch_size must be > 0")
        for kind, name in (("inputs", "input"), ("outputs", "output")):
            tensors = meta.get(kind, [])
            if [t.get("name") for t in tensors] != [name]:
                problems.append(f"{kind} must be exactly [{name!r}], got {[t.get('name') for t in tensors]}")
                continue
            tensor = tensors[0]
            if tensor.get("datatype") != "UINT8":
                problems.append(f"{name} must be UINT8, got {tensor.get('datatype')}")
            if [int(d) for d in tensor.get("shape", [])] != [-1, -1, -1, 3]:
                problems.append(f"{name} shape must be [-1, -1, -1, 3], got {tensor.get('shape')}")
        if problems:
            why = reason("job.model_contract", model=self.model, problems="; ".join(problems))
            raise ModelContractError(why)
        # Where the served model runs decides the encoder's CPU budget (encoder.resolve_preset).
        kinds = {group.get("kind", "KIND_AUTO") for group in config.get("instance_group", [])}
        self.device = "cpu" if kinds == {"KIND_CPU"} else "gpu"
        return batch

    def _region(self, role: str, nbytes: int) -> tuple[str, Any]:
        """This thread's shared-memory region for ``role``, grown when a batch needs more room."""
        import tritonclient.utils.shared_memory as shm

        current = getattr(self._local, role, None)
        if current is not None and current[2] >= nbytes:
            return current[0], current[1]
        if current is not None:
            self._call("shared memory release", self._client.unregister_system_shared_memory, current[0])
            shm.destroy_shared_memory_region(current[1])
        name = f"vsr_{os.getpid()}_{uuid.uuid4().hex[:12]}_{role}"
        handle = shm.create_shared_memory_region(name, f"/{name}", nbytes)
        self._call(
            "shared memory registration", self._client.register_system_shared_memory, name, f"/{name}", nbytes
        )
        setattr(self._local, role, (name, handle, nbytes))
        with self._lock:
            self._regions.append((name, handle))
        return name, handle

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Send one batch (at most ``max_batch`` frames) and return the upscaled frames."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        n, h, w, c = batch.shape
        out_shape = (n, h * self.scale, w * self.scale, c)
        inp = self._grpc.InferInput("input", list(batch.shape), "UINT8")
        out = self._grpc.InferRequestedOutput("output")
        if self._shared:
            import tritonclient.utils.shared_memory as shm

            in_name, in_handle = self._region("in", batch.nbytes)
            out_bytes = math.prod(out_shape)
            out_name, out_handle = self._region("out", out_bytes)
            shm.set_shared_memory_region(in_handle, [batch])
            inp.set_shared_memory(in_name, batch.nbytes)
            out.set_shared_memory(out_name, out_bytes)
            result = self._infer(n * h * w, [inp], outputs=[out])
            if result.get_output("output") is None:
                raise ModelContractError(reason("job.model_no_output"))
            array = np.array(shm.get_contents_as_numpy(out_handle, np.uint8, out_shape), copy=True)
        else:
            inp.set_data_from_numpy(batch)
            result = self._infer(n * h * w, [inp], outputs=[out])
            array = result.as_numpy("output")
            if array is None:
                raise ModelContractError(reason("job.model_no_output"))
        return check_output(batch, array, self.scale)

    def close(self) -> None:
        """Release shared memory regions and the connection."""
        import tritonclient.utils.shared_memory as shm

        for name, handle in self._regions:
            try:
                self._client.unregister_system_shared_memory(name, client_timeout=self._timeout)
            except Exception as exc:  # the server may already be gone; the local region is still freed
                log.debug("unregister %s: %s", name, exc)
            shm.destroy_shared_memory_region(handle)
        self._regions.clear()
        self._client.close()


class TiledUpscaler:
    """Runs ``inner`` on overlapping ``tile``×``tile`` pieces of large frames and stitches their centres."""

    def __init__(
        self, inner: Upscaler, *, tile: int = 512, overlap: int = 16, budget: int | None = None
    ) -> None:
        if tile <= 2 * overlap:
            raise ValueError("tile must be larger than twice the overlap")
        self.inner, self.tile, self.overlap = inner, tile, overlap
        self.scale, self.max_batch, self.in_flight = inner.scale, inner.max_batch, inner.in_flight
        self.device = inner.device
        #: Input pixels one call may take in the memory free (adapter/inference/tiling.py); None: no bound.
        self.budget = budget

    def _per_call(self, pixels_each: int) -> int:
        """Pictures of ``pixels_each`` per inner call: its batch, or fewer where memory is short."""
        if self.budget is None:
            return self.inner.max_batch
        return per_call(pixels_each, self.budget, self.inner.max_batch)

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Upscale, tiling only when a frame exceeds the tile size."""
        n, h, w, c = batch.shape
        if h <= self.tile and w <= self.tile:
            step = self._per_call(h * w)
            if step >= n:
                return self.inner.infer(batch)
            return np.concatenate([self.inner.infer(batch[i : i + step]) for i in range(0, n, step)])
        t, o, s = self.tile, self.overlap, self.scale
        core = t - 2 * o
        rows, cols = math.ceil(h / core), math.ceil(w / core)
        padded = np.pad(
            batch, ((0, 0), (o, rows * core - h + o), (o, cols * core - w + o), (0, 0)), mode="reflect"
        )
        places = [(i, y, x) for i in range(n) for y in range(rows) for x in range(cols)]
        tiles = np.stack([padded[i, y * core : y * core + t, x * core : x * core + t] for i, y, x in places])
        out = np.empty((n, rows * core * s, cols * core * s, c), np.uint8)
        step = self._per_call(t * t)
        for start in range(0, len(places), step):
            done = self.inner.infer(tiles[start : start + step])
            for k, (i, y, x) in enumerate(places[start : start + step]):
                out[i, y * core * s : (y + 1) * core * s, x * core * s : (x + 1) * core * s] = done[
                    k, o * s : (o + core) * s, o * s : (o + core) * s
                ]
        return out[:, : h * s, : w * s]

    def close(self) -> None:
        """Close the wrapped upscaler."""
        self.inner.close()


def make_upscaler(
    model: str,
    triton_url: str | None,
    models_dir: Path,
    timeout_s: float = 60,
    *,
    tile: int = 512,
    shared_memory: bool = False,
    backend: str = "auto",
    device: str | None = None,
    precision: str = "auto",
) -> Upscaler:
    """Triton, torch or local ``backend`` (auto: Triton with a URL, else torch on CUDA, else ONNX); tiled.

    ``precision`` applies to the local backend; a Triton model's precision is set in its repository.
    """
    if model not in MODELS:
        raise InvalidInputError(reason("job.unknown_model", model=model))
    if backend == "auto":
        backend = "triton" if triton_url else "torch" if device != "cpu" and _cuda_present() else "local"
    inner: Upscaler
    if backend == "triton" and triton_url:
        inner = TritonUpscaler(model, triton_url, timeout_s=timeout_s, shared_memory=shared_memory)
    elif backend == "torch":
        from adapter.inference.torch_backend import TorchUpscaler

        torch = TorchUpscaler(model, device=device or ("cuda" if _cuda_present() else "cpu"))
        # A GPU holds whole 1080p frames; tiles would only add seams' worth of work.
        tile = max(tile, 2048) if torch.device == "gpu" else tile
        inner = Watchdog(torch, timeout_s)  # in-process: no timeout of its own
    else:
        local = LocalUpscaler(model, models_dir, precision=precision)
        inner = Watchdog(local, timeout_s)  # Triton has its client timeout
    budget = None
    if inner.device != "gpu":  # a call on the CPU takes host memory: fewer pictures, or smaller tiles
        budget = pixel_budget(model, available_memory(), inner.in_flight)
        tile = fit_tile(tile, budget, least_tile(model))
    return TiledUpscaler(inner, tile=tile, overlap=tile_overlap(model, tile), budget=budget)  # measured field


def _cuda_present() -> bool:
    """Whether PyTorch is installed and sees a CUDA device (PyTorch is imported only when installed)."""
    import importlib.util

    # No NVIDIA driver, no CUDA: spare CPU hosts the PyTorch import (seconds) on every model load.
    if not (Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists()):
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    from adapter.inference.torch_backend import cuda_present

    return cuda_present()
