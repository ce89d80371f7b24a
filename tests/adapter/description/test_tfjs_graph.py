"""tfjs → ONNX: the ops the face models added (MaxPool, Pad, Reshape, Softmax, Mean) against numpy."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from adapter.description.setup.tfjs_graph import convert_to_onnx, load_tfjs_graph

PADDINGS = np.array([[0, 0], [1, 0], [0, 1], [0, 2]], np.int32)  # NHWC: top 1, right 1, 2 more channels
SHAPE = np.array([1, 32, 3], np.int32)


def _s(text: str) -> dict[str, str]:
    return {"s": base64.b64encode(text.encode()).decode()}


def _node(name: str, op: str, inputs: list[str], **attr: Any) -> dict[str, Any]:
    return {"name": name, "op": op, "input": inputs, "attr": attr}


def _model(folder: Path) -> Path:
    """x [1,6,6,4] → MaxPool 3x3/2 SAME → Pad → (out "pad"), Reshape [1,32,3], Mean(H,W) → Softmax."""
    weights = {"paddings": PADDINGS, "shape": SHAPE, "axes": np.array([1, 2], np.int32)}
    ints, strides = {"list": {"i": ["1", "3", "3", "1"]}}, {"list": {"i": ["1", "2", "2", "1"]}}
    nodes = [
        _node("x", "Placeholder", [], shape={"shape": {"dim": [{"size": s} for s in ("-1", "6", "6", "4")]}}),
        _node(
            "pool", "MaxPool", ["x"], ksize=ints, strides=strides, padding=_s("SAME"), data_format=_s("NHWC")
        ),
        _node("pad", "Pad", ["pool", "paddings"]),
        _node("flat", "Reshape", ["pad", "shape"]),
        _node("mean", "Mean", ["pad", "axes"], keep_dims={"b": False}),
        _node("probs", "Softmax", ["mean"]),
    ]
    specs = [{"name": k, "shape": list(v.shape), "dtype": "int32"} for k, v in weights.items()]
    (folder / "w.bin").write_bytes(b"".join(v.tobytes() for v in weights.values()))
    manifest = [{"paths": ["w.bin"], "weights": specs}]
    path = folder / "model.json"
    path.write_text(
        json.dumps({"format": "graph-model", "modelTopology": {"node": nodes}, "weightsManifest": manifest})
    )
    return path


def _reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What TF computes: SAME max pooling pads the end (here by 1) with -inf."""
    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-np.inf)
    windows = [
        [padded[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(1, 2)) for j in range(3)] for i in range(3)
    ]
    pool = np.stack([np.stack(row, 1) for row in windows], 1)
    pad = np.pad(pool, PADDINGS)
    mean = pad.mean(axis=(1, 2))
    probs = np.exp(mean) / np.exp(mean).sum(axis=1, keepdims=True)
    return pad, pad.reshape(SHAPE), probs


def test_pool_pad_reshape_softmax_match_numpy(tmp_path: Path) -> None:
    model = convert_to_onnx(load_tfjs_graph(_model(tmp_path)), ["pad", "flat", "probs"])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).normal(size=(1, 6, 6, 4)).astype(np.float32)
    pad, flat, probs = session.run(None, {"x__nhwc": x})
    expected = _reference(x)
    assert pad.shape == (1, 4, 4, 6) and flat.shape == (1, 32, 3) and probs.shape == (1, 6)
    for got, want in zip((pad, flat, probs), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The -1 batch dimension stays free (the emotion model's input is [-1, 64, 64, 1]).
    probs_only = convert_to_onnx(load_tfjs_graph(tmp_path / "model.json"), ["probs"])
    session = ort.InferenceSession(probs_only.SerializeToString(), providers=["CPUExecutionProvider"])
    (batch,) = session.run(None, {"x__nhwc": np.concatenate([x, x])})
    np.testing.assert_allclose(batch, np.concatenate([expected[2]] * 2), rtol=1e-5, atol=1e-6)
