"""Reader for ncnn `.param` graphs and `.bin` weight blobs (the layers Real-ESRGAN and Real-CUGAN use)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PARAM_MAGIC = 7767517
# ncnn ModelBin tags in front of "auto-typed" blobs (convolution weights).
TAG_FP16 = 0x01306B47
TAG_FP32 = 0x00000000
TAG_INT8 = 0x000D4B38


_WEIGHTLESS = {"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle", "Crop", "Pooling"}


class NcnnFormatError(ValueError):
    """The .param/.bin pair is malformed or uses a layer this reader does not know."""


@dataclass
class Layer:
    """One ncnn layer: type, name, blob names, integer-keyed params and loaded weights."""

    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, str]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def int_param(self, key: int, default: int = 0) -> int:
        """Integer parameter `key`."""
        return int(self.params[key]) if key in self.params else default

    def float_param(self, key: int, default: float = 0.0) -> float:
        """Float parameter `key`."""
        return float(self.params[key]) if key in self.params else default


def parse_param(text: str) -> list[Layer]:
    """Parse the text `.param` format into layers (weights not loaded)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or int(lines[0][0]) != PARAM_MAGIC:
        raise NcnnFormatError("not an ncnn .param file (bad magic)")
    layer_count = int(lines[1][0])
    layers: list[Layer] = []
    for parts in lines[2 : 2 + layer_count]:
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        inputs = parts[4 : 4 + n_in]
        outputs = parts[4 + n_in : 4 + n_in + n_out]
        params: dict[int, str] = {}
        for item in parts[4 + n_in + n_out :]:
            key, _, value = item.partition("=")
            params[int(key)] = value
        layers.append(Layer(kind, name, inputs, outputs, params))
    if len(layers) != layer_count:
        raise NcnnFormatError(f"expected {layer_count} layers, found {len(layers)}")
    return layers


class _BlobReader:
    """Sequential reader over the `.bin` blob with ncnn's alignment rules."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def raw_fp32(self, count: int) -> np.ndarray:
        """Untagged fp32 array (biases, PReLU slopes)."""
        end = self.pos + 4 * count
        if end > len(self.data):
            raise NcnnFormatError("weight blob ended early")
        array = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos).astype(np.float32)
        self.pos = end
        return array

    def tagged(self, count: int) -> np.ndarray:
        """Tagged array (convolution weights): fp16 or fp32."""
        (tag,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        if tag == TAG_FP16:
            end = self.pos + 2 * count
            array = np.frombuffer(self.data, dtype="<f2", count=count, offset=self.pos).astype(np.float32)
            self.pos = end + (-(2 * count)) % 4  # fp16 blobs are padded to 4 bytes
            return array
        if tag == TAG_FP32:
            return self.raw_fp32(count)
        raise NcnnFormatError(f"unsupported weight tag {tag:#010x}")


def load(param_path: Path, bin_path: Path) -> list[Layer]:
    """Parse a `.param`/`.bin` pair, attaching weights to Convolution and PReLU layers."""
    layers = parse_param(param_path.read_text())
    reader = _BlobReader(bin_path.read_bytes())
    for layer in layers:
        if layer.type == "Convolution":
            out_ch, kernel = layer.int_param(0), layer.int_param(1)
            size = layer.int_param(6)
            in_ch = size // (out_ch * kernel * kernel)
            weight = reader.tagged(size).reshape(out_ch, in_ch, kernel, kernel)
            layer.weights["weight"] = weight
            if layer.int_param(5):
                layer.weights["bias"] = reader.raw_fp32(out_ch)
        elif layer.type == "PReLU":
            layer.weights["weight"] = reader.raw_fp32(layer.int_param(0))
        elif layer.type in {"Deconvolution", "InnerProduct"}:
            # Same blob layout as Convolution: tagged [out, in(, k, k)] weights, then untagged bias.
            out_ch, size = layer.int_param(0), layer.int_param(6 if layer.type == "Deconvolution" else 2)
            layer.weights["weight"] = reader.tagged(size)
            if layer.int_param(5 if layer.type == "Deconvolution" else 1):
                layer.weights["bias"] = reader.raw_fp32(out_ch)
        elif layer.type not in _WEIGHTLESS:
            raise NcnnFormatError(f"unsupported layer type {layer.type} ({layer.name})")
    if reader.pos != len(reader.data):
        raise NcnnFormatError(f"{len(reader.data) - reader.pos} bytes left over in {bin_path.name}")
    return layers
