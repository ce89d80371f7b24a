"""In-process PyTorch upscaler: the ``model_convertation`` networks on CUDA (fp16/bf16) or on the CPU (f32).

On CUDA each of ``in_flight`` lanes has its own stream and pinned host buffers. A call borrows a free
lane, so any number of calling threads (several pipelines' included) keep at most ``in_flight`` batches,
and their memory, on the device, and those batches overlap their copies with each other's kernels. The
frames stay uint8 on the bus and become float (channels_last: the NHWC bytes viewed as NCHW) on the device.
"""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from adapter.errors import ModelContractError
from adapter.inference.base import check_output
from contract.catalogue import reason
from contract.models import SERVED as MODELS  # Triton names incl. Real-CUGAN denoise files

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def cuda_present() -> bool:
    """Whether a CUDA device can be used by this process."""
    return bool(torch.cuda.is_available())


def half_state(network: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict with every tensor that fp16 holds exactly as fp16 (ncnn's weights are), others f32."""
    state: dict[str, torch.Tensor] = {}
    for key, tensor in network.state_dict().items():
        half = tensor.half()
        state[key] = half if torch.equal(half.float(), tensor.float()) else tensor.float()
    return state


def load_network(model: str, weights_dir: Path | None = None) -> nn.Module:
    """The float upscaler from ``<weights_dir>/<model>.pth`` (a kit's) if there, else from the ncnn files."""
    from model_convertation import weights
    from model_convertation.catalog import SERVED as SPECS

    if model not in SPECS:  # Real-CUGAN: its graph is rebuilt from ncnn for ONNX/Triton only
        raise ModelContractError(reason("job.backend_lacks_model", model=model, backend="torch"))
    spec = SPECS[model]
    path = Path(weights_dir) / f"{model}.pth" if weights_dir is not None else None
    if path is not None and path.is_file():
        upscaler = weights.Upscaler(spec.network(), spec.scale)
        state = torch.load(path, map_location="cpu", weights_only=True)
        upscaler.load_state_dict({key: value.float() for key, value in state.items()})
        return upscaler.eval()
    return weights.load_upscaler(spec)


class _Lane:
    """A CUDA stream with its pinned host buffers (grown on demand), used by one call at a time."""

    def __init__(self, device: torch.device) -> None:
        self.stream = torch.cuda.Stream(device)
        self.host_in = torch.empty(1, dtype=torch.uint8).pin_memory()
        self.host_out = torch.empty(1, dtype=torch.uint8).pin_memory()

    def buffers(self, n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Pinned flat buffers of at least the given sizes."""
        if self.host_in.numel() < n_in:
            self.host_in = torch.empty(n_in, dtype=torch.uint8).pin_memory()
        if self.host_out.numel() < n_out:
            self.host_out = torch.empty(n_out, dtype=torch.uint8).pin_memory()
        return self.host_in[:n_in], self.host_out[:n_out]


class TorchUpscaler:
    """A Real-ESRGAN model run by PyTorch in this process; ``device`` "gpu" on CUDA, "cpu" otherwise."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "cuda",
        dtype: str = "auto",
        max_batch: int | None = None,
        in_flight: int | None = None,
        channels_last: bool | None = None,
        weights_dir: Path | None = None,
    ) -> None:
        self.scale = MODELS[model]
        self.torch_device = torch.device(device)
        cuda = self.torch_device.type == "cuda"
        if cuda:
            torch.backends.cudnn.benchmark = True  # one frame size a video: pick kernels once
        self.device = "gpu" if cuda else "cpu"
        self.dtype = DTYPES["fp16" if cuda else "fp32"] if dtype == "auto" else DTYPES[dtype]
        self.max_batch = max_batch or (4 if cuda else 2)
        self.in_flight = in_flight or (3 if cuda else 1)
        self.channels_last = cuda if channels_last is None else channels_last
        network = load_network(model, weights_dir).to(device=self.torch_device, dtype=self.dtype)
        if self.channels_last:
            network = network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.network: nn.Module | None = network
        self._lanes: queue.Queue[_Lane] = queue.Queue()
        for _ in range(self.in_flight if cuda else 0):
            self._lanes.put(_Lane(self.torch_device))
        #: When a list, each CUDA batch appends its (start, end) events: the GPU's busy share (benchmarks).
        self.spans: list[tuple[torch.cuda.Event, torch.cuda.Event]] | None = None

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC → uint8 NHWC ×scale on the device, with the ONNX graph's arithmetic (``Uint8Graph``)."""
        if self.network is None:
            raise RuntimeError("the upscaler is closed")
        x = frames.permute(0, 3, 1, 2).to(self.dtype)  # NHWC bytes seen as NCHW: channels_last strides
        if not self.channels_last:
            x = x.contiguous()
        y = self.network(x / 255.0)
        y = torch.round(torch.clamp(y.float() * 255.0, 0.0, 255.0))
        return y.permute(0, 2, 3, 1).to(torch.uint8)

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Upscale uint8 ``[N, H, W, 3]``; thread-safe (on CUDA each call borrows a free lane)."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        with torch.inference_mode():
            if self.torch_device.type != "cuda":
                out = self.forward(torch.from_numpy(batch)).contiguous().numpy()
            else:
                out = self._infer_cuda(batch)
        return check_output(batch, out, self.scale)

    def _infer_cuda(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Borrow a lane: pinned copy in, model, pinned copy out on its stream; waits only for that stream."""
        lane = self._lanes.get()
        try:
            return self._on_lane(lane, batch)
        finally:
            self._lanes.put(lane)

    def _on_lane(self, lane: _Lane, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """One batch on ``lane`` (which no other call uses meanwhile)."""
        n, h, w, c = batch.shape
        shape_out = (n, h * self.scale, w * self.scale, c)
        host_in, host_out = lane.buffers(batch.size, n * h * w * c * self.scale * self.scale)
        host_in.numpy()[:] = batch.reshape(-1)
        events = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
        with torch.cuda.stream(lane.stream):
            events[0].record(lane.stream)
            frames = host_in.view(batch.shape).to(self.torch_device, non_blocking=True)
            result = self.forward(frames)
            host_out.view(shape_out).copy_(result, non_blocking=True)
            events[1].record(lane.stream)
        lane.stream.synchronize()
        if self.spans is not None:
            self.spans.append(events)  # list.append is atomic: no lock needed
        # The pinned buffer is reused by the lane's next batch: hand out a copy.
        return host_out.view(shape_out).numpy().copy()

    def close(self) -> None:
        """Drop the network (and its device memory)."""
        self.network = None
        if self.torch_device.type == "cuda":
            torch.cuda.empty_cache()
