"""ncnn weights → PyTorch state dicts with the original Real-ESRGAN key names."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model_convertation import ncnn
from model_convertation.catalog import ModelSpec, ncnn_models_dir

BICUBIC = 3


@dataclass(frozen=True)
class Converted:
    """A converted network: its state dict and the output resize factor found at the end of the ncnn graph."""

    state_dict: OrderedDict[str, torch.Tensor]
    downscale: float  # 1.0 when the graph ends at the network output


def _module_groups(network: nn.Module) -> list[tuple[str, list[str]]]:
    """Parameter-bearing module prefixes of a network in registration (= execution) order."""
    groups: OrderedDict[str, list[str]] = OrderedDict()
    for key in network.state_dict():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, []).append(leaf)
    return list(groups.items())


def _tail_resize(layers: list[ncnn.Layer]) -> float:
    """Scale of a trailing bicubic Interp on the graph output (x2/x3 variants), else 1.0."""
    last = layers[-1]
    if last.type != "Interp":
        return 1.0
    if last.int_param(0) != BICUBIC:
        raise ncnn.NcnnFormatError(f"trailing Interp {last.name} is not bicubic")
    height, width = last.float_param(1), last.float_param(2)
    if height != width:
        raise ncnn.NcnnFormatError(f"trailing Interp {last.name} is not isotropic")
    return height


def convert_layers(layers: list[ncnn.Layer], network: nn.Module) -> Converted:
    """Map ncnn Convolution/PReLU layers, in order, onto the network's parameters, checking shapes."""
    weighted = [layer for layer in layers if layer.weights]
    groups = _module_groups(network)
    if len(weighted) != len(groups):
        raise ncnn.NcnnFormatError(f"graph has {len(weighted)} weighted layers, architecture {len(groups)}")
    reference = network.state_dict()
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for layer, (prefix, leaves) in zip(weighted, groups, strict=True):
        if sorted(layer.weights) != sorted(leaves):
            raise ncnn.NcnnFormatError(f"{layer.name} has {sorted(layer.weights)}, {prefix} needs {leaves}")
        for leaf in leaves:
            key = f"{prefix}.{leaf}"
            tensor = torch.from_numpy(np.ascontiguousarray(layer.weights[leaf]))
            if tensor.shape != reference[key].shape:
                raise ncnn.NcnnFormatError(
                    f"{layer.name}: shape {tuple(tensor.shape)} ≠ {key} {reference[key].shape}"
                )
            state[key] = tensor
    return Converted(state, _tail_resize(layers))


def convert(spec: ModelSpec, models_dir: Path | None = None) -> Converted:
    """Read the ncnn files of `spec` and return the converted weights."""
    folder = models_dir or ncnn_models_dir()
    layers = ncnn.load(folder / f"{spec.ncnn_stem}.param", folder / f"{spec.ncnn_stem}.bin")
    converted = convert_layers(layers, spec.network())
    if round(4 * converted.downscale) != spec.scale:
        raise ncnn.NcnnFormatError(
            f"{spec.name}: graph gives scale {4 * converted.downscale}, expected {spec.scale}"
        )
    return converted


class Upscaler(nn.Module):
    """Float NCHW [0, 1] → scaled float NCHW: the 4x network, then the graph's bicubic downscale if any."""

    def __init__(self, network: nn.Module, scale: int) -> None:
        super().__init__()
        self.network = network
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the network; x2/x3 resize to exactly scale × input like ncnn's Interp (size, not factor)."""
        out = self.network(x)
        if self.scale != 4:
            out = F.interpolate(
                out,
                size=(x.shape[2] * self.scale, x.shape[3] * self.scale),
                mode="bicubic",
                align_corners=False,
            )
        return out


def load_upscaler(spec: ModelSpec, models_dir: Path | None = None) -> nn.Module:
    """The converted float model for `spec`, in eval mode."""
    if spec.architecture == "cugan":
        from model_convertation import cugan

        folder = models_dir or ncnn_models_dir(spec.wheel)
        return cugan.load_upscaler(
            folder / f"{spec.ncnn_stem}.param", folder / f"{spec.ncnn_stem}.bin", spec.scale
        )
    network = spec.network()
    network.load_state_dict(convert(spec, models_dir).state_dict)
    return Upscaler(network, spec.scale).eval()
