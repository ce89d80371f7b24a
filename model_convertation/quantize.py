"""int8 quantization of an exported ONNX model into a QDQ ONNX graph, with NNCF.

The QDQ graph (QuantizeLinear/DequantizeLinear pairs around each convolution's inputs) is the one int8
artefact: OpenVINO runs it on CPUs (its low-precision transformations fold the pairs into int8
convolutions), and TensorRT builds an int8 engine from the same graph (explicit quantization). Recipe:
NNCF's ``MIXED`` preset (symmetric per-channel weights, asymmetric activations: the PReLU/LeakyReLU
outputs are mostly positive, so a symmetric range would waste half the codes; fast bias correction) with
activation ranges from the ``OUTLIER_PROB`` quantiles of ``calibration.calibration_frames`` rather than
their extremes (full ranges made the quantization steps coarse enough to draw new steps on flat
gradients), and only the convolutions' inputs quantized (``NOT_QUANTIZED``: docs/benchmarks.md, "int8",
has the recipes tried and their figures). That alone fails the gate for every model. So the compact
networks (``fine_tunes``) are first fine-tuned with the rounding in place (model_convertation/qat.py); the
graph then keeps NNCF's structure and takes the learned activation grids, the weight codes and the exact
1/255 grid for the input pixels.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from model_convertation import calibration, gate, qat, weights
from model_convertation.catalog import ModelSpec
from model_convertation.export import write_graph

#: Share of activation values left outside the quantization range at each end.
OUTLIER_PROB = 1e-3
#: Operations that compute nothing worth int8 and are left unquantized. NNCF also puts quantizers on the
#: inputs of these: the raw input pixels (before the layout change), the residual's upsampled picture
#: (Resize), the last convolution's answer (DepthToSpace) and the final sum (Add). With quantile ranges
#: those clip saturated colours (0 and 255), which cost 2.3 dB on saturated graphics; no int8 convolution
#: goes (docs/benchmarks.md, "int8").
NOT_QUANTIZED = ("Transpose", "Resize", "DepthToSpace", "Add")
RECIPE = f"nncf|mixed|quantile-{OUTLIER_PROB:g}|calibration-9|not-{'-'.join(NOT_QUANTIZED)}"
#: The recipe with quantization-aware fine-tuning first (``quantize(..., fine_tune=True)``).
TUNED_RECIPE = f"{RECIPE}|qat-{qat.STEPS}-seed{qat.SEED}-quantile-{qat.OUTLIER_PROB:g}"


def fine_tunes(spec: ModelSpec) -> bool:
    """Whether the build's recipe fine-tunes ``spec`` before quantizing (the compact networks)."""
    return spec.architecture == "srvgg"


def recipe_of(int8_onnx: Path) -> str:
    """The recipe an int8 file was built with (its stamp), or "" when unknown."""
    try:
        return str(json.loads(_stamp(int8_onnx).read_text()).get("recipe", ""))
    except (OSError, ValueError):
        return ""


def int8_path(f32_path: Path) -> Path:
    """``<name>.onnx`` → ``<name>.int8.onnx`` (same folder)."""
    return f32_path.with_name(f32_path.stem + ".int8.onnx")


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".stamp.json")


def fingerprint(f32_path: Path, *, fine_tune: bool = False) -> str:
    """Hash of what the int8 file depends on: the f32 graph, the recipe and the code that applies it."""
    import nncf
    import torch

    digest = hashlib.sha256(f32_path.read_bytes())
    tuning = (qat.__file__, gate.__file__) if fine_tune else ()  # gate: checkpoints are chosen by its rule
    modules = (__file__, calibration.__file__, *tuning)
    for module in modules:
        digest.update(Path(module).read_bytes())
    recipe = f"{TUNED_RECIPE}|torch-{torch.__version__}" if fine_tune else RECIPE
    digest.update(f"{recipe}|{nncf.__version__}".encode())
    return digest.hexdigest()


def is_up_to_date(target: Path, digest: str) -> bool:
    """True when ``target`` exists and was quantized from the same inputs."""
    try:
        return target.is_file() and json.loads(_stamp(target).read_text()).get("fingerprint") == digest
    except (OSError, ValueError):
        return False


def _parameters() -> Any:
    """NNCF's advanced parameters: quantile activation ranges."""
    import nncf
    from nncf.quantization.range_estimator import (
        AggregatorType,
        RangeEstimatorParameters,
        StatisticsCollectorParameters,
        StatisticsType,
    )

    bound = StatisticsCollectorParameters(
        StatisticsType.QUANTILE, AggregatorType.MEAN, quantile_outlier_prob=OUTLIER_PROB
    )
    return nncf.AdvancedQuantizationParameters(
        activations_range_estimator_params=RangeEstimatorParameters(min=bound, max=bound)
    )


def _post_training(model: Any, frames: list[np.ndarray], *, bias_correction: bool) -> Any:
    """NNCF's QDQ graph of ``model`` with the recipe's ranges from ``frames``."""
    import nncf

    parameters = _parameters()
    parameters.disable_bias_correction = not bias_correction
    return nncf.quantize(
        model,
        nncf.Dataset(frames, lambda frame: {"input": frame}),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(frames),
        advanced_parameters=parameters,
        ignored_scope=nncf.IgnoredScope(types=list(NOT_QUANTIZED), validate=False),  # not every graph has all
    )


def _set_rounding(model: Any, roundings: list[qat.Rounding]) -> None:
    """Give each convolution's QDQ pairs the input grid and weight codes fine-tuning rounded with."""
    from onnx import numpy_helper

    initialisers = {init.name: init for init in model.graph.initializer}
    producer = {output: node for node in model.graph.node for output in node.output}

    def put(name: str, values: np.ndarray) -> None:
        old = numpy_helper.to_array(initialisers[name])
        if old.size != values.size:
            raise ValueError(f"{name}: {old.size} values in the graph, {values.size} learned")
        initialisers[name].CopyFrom(
            numpy_helper.from_array(values.astype(old.dtype).reshape(old.shape), name)
        )

    convolutions = [node for node in model.graph.node if node.op_type == "Conv"]
    if len(convolutions) != len(roundings):
        raise ValueError(f"{len(convolutions)} convolutions in the graph, {len(roundings)} learned")
    for conv, rounding in zip(convolutions, roundings, strict=True):
        dequantize = producer[conv.input[0]]
        pair = (producer[dequantize.input[0]], dequantize)
        weights_node = producer[conv.input[1]]
        if [node.op_type for node in (*pair, weights_node)] != ["QuantizeLinear", *["DequantizeLinear"] * 2]:
            raise ValueError(f"{conv.name}: its inputs are not quantize/dequantize pairs")
        grid = rounding.grid
        for node in pair:
            zero = numpy_helper.to_array(initialisers[node.input[2]])
            shift = 128 if zero.dtype == np.int8 else 0  # NNCF keeps u8 codes as int8 shifted by 128
            put(node.input[1], np.array(grid.scale))
            put(node.input[2], np.array(grid.zero_point - shift))
        put(weights_node.input[0], rounding.codes)
        put(weights_node.input[1], rounding.scales)


def _tuned(spec: ModelSpec, frames: list[np.ndarray]) -> Any:
    """The QDQ graph of the quantization-aware fine-tuned network, rounding as it learned to."""
    import onnx

    network, roundings = qat.fine_tune(weights.load_upscaler(spec), spec.scale)
    with tempfile.TemporaryDirectory() as folder:
        source = write_graph(network, Path(folder) / "tuned.onnx", spec)
        model = onnx.load(str(source))
    # The fine-tuning learned the biases with rounding in place: NNCF's bias correction would undo that.
    quantized = _post_training(model, frames, bias_correction=False)
    _set_rounding(quantized, roundings)
    return quantized


def quantize(
    spec: ModelSpec,
    f32_path: Path,
    *,
    force: bool = False,
    frames: list[np.ndarray] | None = None,
    fine_tune: bool | None = None,
) -> tuple[Path, bool]:
    """Write the QDQ int8 ONNX next to ``f32_path`` (fine-tuned first where the recipe says, unless
    ``fine_tune`` says otherwise); returns (path, whether it was built now)."""
    import onnx

    fine_tune = fine_tunes(spec) if fine_tune is None else fine_tune
    target = int8_path(f32_path)
    digest = fingerprint(f32_path, fine_tune=fine_tune)
    if not force and is_up_to_date(target, digest):
        return target, False
    batches = frames if frames is not None else calibration.calibration_frames()
    if fine_tune:
        if spec.architecture != "srvgg":
            raise ValueError(f"{spec.name}: fine-tuning is written for the compact (srvgg) networks")
        quantized = _tuned(spec, batches)
    else:
        quantized = _post_training(onnx.load(str(f32_path)), batches, bias_correction=True)
    # Rename last so a crashed build never leaves a half-written file under the final name.
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    onnx.save(quantized, str(partial))
    partial.replace(target)
    recipe = TUNED_RECIPE if fine_tune else RECIPE
    _stamp(target).write_text(json.dumps({"source": f32_path.name, "fingerprint": digest, "recipe": recipe}))
    return target, True
