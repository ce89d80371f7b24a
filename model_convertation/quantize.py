"""Post-training int8 quantization of an exported ONNX model into a QDQ ONNX graph, with NNCF.

The QDQ graph (QuantizeLinear/DequantizeLinear pairs around each convolution's inputs) is the one int8
artefact: OpenVINO runs it on CPUs (its low-precision transformations fold the pairs into int8
convolutions), and TensorRT builds an int8 engine from the same graph (explicit quantization). Recipe:
NNCF's ``MIXED`` preset (symmetric per-channel weights, asymmetric activations: the PReLU/LeakyReLU
outputs are mostly positive, so a symmetric range would waste half the codes; fast bias correction) with
activation ranges from the ``OUTLIER_PROB`` quantiles of ``calibration.calibration_frames`` rather than
their extremes (full ranges made the quantization steps coarse enough to draw new steps on flat
gradients), and only the convolutions' inputs quantized (``NOT_QUANTIZED``: docs/benchmarks.md, "int8",
has the recipes tried and their figures).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from model_convertation import calibration

#: Share of activation values left outside the quantization range at each end.
OUTLIER_PROB = 1e-3
#: Operations that compute nothing worth int8 and are left unquantized. NNCF also puts quantizers on the
#: inputs of these: the raw input pixels (before the layout change), the residual's upsampled picture
#: (Resize), the last convolution's answer (DepthToSpace) and the final sum (Add). With quantile ranges
#: those clip saturated colours (0 and 255), which cost 2.3 dB on saturated graphics; no int8 convolution
#: goes (docs/benchmarks.md, "int8").
NOT_QUANTIZED = ("Transpose", "Resize", "DepthToSpace", "Add")
RECIPE = f"nncf|mixed|quantile-{OUTLIER_PROB:g}|calibration-9|not-{'-'.join(NOT_QUANTIZED)}"


def int8_path(f32_path: Path) -> Path:
    """``<name>.onnx`` → ``<name>.int8.onnx`` (same folder)."""
    return f32_path.with_name(f32_path.stem + ".int8.onnx")


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".stamp.json")


def fingerprint(f32_path: Path) -> str:
    """Hash of what the int8 file depends on: the f32 graph, this recipe and the calibration code."""
    import nncf

    digest = hashlib.sha256(f32_path.read_bytes())
    for module in (__file__, calibration.__file__):
        digest.update(Path(module).read_bytes())
    digest.update(f"{RECIPE}|{nncf.__version__}".encode())
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


def quantize(
    f32_path: Path, *, force: bool = False, frames: list[np.ndarray] | None = None
) -> tuple[Path, bool]:
    """Write the QDQ int8 ONNX next to ``f32_path``; returns (path, whether it was built now)."""
    import nncf
    import onnx

    target = int8_path(f32_path)
    digest = fingerprint(f32_path)
    if not force and is_up_to_date(target, digest):
        return target, False
    batches = frames if frames is not None else calibration.calibration_frames()
    dataset = nncf.Dataset(batches, lambda frame: {"input": frame})
    quantized = nncf.quantize(
        onnx.load(str(f32_path)),
        dataset,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(batches),
        advanced_parameters=_parameters(),
        ignored_scope=nncf.IgnoredScope(types=list(NOT_QUANTIZED), validate=False),  # not every graph has all
    )
    # Rename last so a crashed build never leaves a half-written file under the final name.
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    onnx.save(quantized, str(partial))
    partial.replace(target)
    _stamp(target).write_text(json.dumps({"source": f32_path.name, "fingerprint": digest, "recipe": RECIPE}))
    return target, True
