"""TensorFlow.js graph model → ONNX, for the small op set of the shipped detectors (setup time only).

A tfjs graph model is a TF GraphDef written as JSON (``modelTopology.node``) plus a binary weights
file. No TensorFlow wheel is needed: the graph is walked once and each TF op is written as its ONNX
equivalent. The ONNX graph runs in NCHW (what ONNX convolutions expect); the NHWC input is
transposed once at the start and each requested 4-D output once at the end, so the model keeps the
tfjs signature (input ``[N, H, W, C]`` float, outputs NHWC). A tensor that leaves the 4-D layout
(``Reshape``, ``Mean`` without kept dims) is "plain": it keeps TF's own layout from there on.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
_DTYPES = {"float32": np.float32, "int32": np.int32}
_QUANT = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1, -1: 1}


class ConversionError(ValueError):
    """The tfjs graph uses something this converter does not translate."""


@dataclass
class TfjsGraph:
    """Nodes by name and constant tensors by name, as read from model.json + its weight shards."""

    nodes: dict[str, dict[str, Any]]
    weights: dict[str, np.ndarray]
    inputs: list[str] = field(default_factory=list)


def load_tfjs_graph(model_json: Path) -> TfjsGraph:
    """Read a tfjs graph model (model.json + shards beside it), dequantising float16/uint8 weights."""
    model = json.loads(model_json.read_text())
    if model.get("format") != "graph-model":
        raise ConversionError(f"{model_json.name} is not a tfjs graph model")
    nodes = {node["name"]: node for node in model["modelTopology"]["node"]}
    weights: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        data = b"".join((model_json.parent / shard).read_bytes() for shard in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            dtype = _QUANT[quant["dtype"]] if quant else _DTYPES[spec["dtype"]]
            size = np.dtype(dtype).itemsize * count
            array = np.frombuffer(data[offset : offset + size], dtype=dtype)
            offset += size
            if quant and quant["dtype"] != "float16":
                array = array.astype(np.float32) * quant["scale"] + quant["min"]
            target = np.float32 if spec["dtype"] == "float32" else np.int32
            weights[spec["name"]] = array.astype(target).reshape(shape)
    inputs = [name for name, node in nodes.items() if node["op"] == "Placeholder"]
    return TfjsGraph(nodes=nodes, weights=weights, inputs=inputs)


def _text(attr: dict[str, Any], key: str) -> str:
    return base64.b64decode(attr[key]["s"]).decode()


def _ints(attr: dict[str, Any], key: str) -> list[int]:
    return [int(v) for v in attr[key]["list"].get("i", [])]


class _Builder:
    """Accumulates ONNX nodes and initialisers while walking the TF graph from the outputs back."""

    def __init__(self, graph: TfjsGraph) -> None:
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, onnx.TensorProto] = {}
        self.done: set[str] = set()
        #: Outputs in TF's own layout (not NCHW activations), with their rank: reshaped or reduced tensors.
        self.plain: dict[str, int] = {}

    def const(self, name: str, value: np.ndarray) -> str:
        if name not in self.inits:
            self.inits[name] = numpy_helper.from_array(value, name)
        return name

    def relu6_bounds(self) -> list[str]:
        """The two constant inputs of Clip that make it TF's Relu6."""
        return [self.const("zero", np.array(0, np.float32)), self.const("six", np.array(6, np.float32))]

    def add(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def value(self, ref: str) -> str:
        """The ONNX name holding TF tensor ``ref`` (NCHW for 4-D activations), converting on demand."""
        name = ref.split(":")[0]
        if name in self.graph.weights:
            return self.const(name, self.graph.weights[name])
        if name not in self.done:
            raise ConversionError(f"{name} is used before it is defined")
        return name

    def activation_const(self, ref: str) -> str:
        """A constant operand of an elementwise op: per-channel vectors are shaped to broadcast in NCHW."""
        array = self.graph.weights[ref]
        if array.ndim == 1 and array.size > 1:
            array = array.reshape(-1, 1, 1)
        return self.const(ref + "__nchw", array)

    def conv(self, name: str, node: dict[str, Any], depthwise: bool) -> None:
        attr = node.get("attr", {})
        if _text(attr, "data_format") != "NHWC":
            raise ConversionError(f"{name}: only NHWC convolutions are supported")
        kernel = self.graph.weights[node["input"][1]]
        if depthwise:  # TF [H, W, C, M] → ONNX [C*M, 1, H, W] with one group per input channel
            h, w, c, m = kernel.shape
            weight, group = kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, h, w), c
        else:  # TF [H, W, I, O] → ONNX [O, I, H, W]
            weight, group = kernel.transpose(3, 2, 0, 1), 1
        padding = _text(attr, "padding")
        if padding not in ("SAME", "VALID"):
            raise ConversionError(f"{name}: padding {padding} is not supported")
        fused = [base64.b64decode(s).decode() for s in attr.get("fused_ops", {}).get("list", {}).get("s", [])]
        inputs = [self.value(node["input"][0]), self.const(name + "__w", np.ascontiguousarray(weight))]
        if fused and fused[0] == "BiasAdd":
            inputs.append(self.const(name + "__b", self.graph.weights[node["input"][2]]))
            fused = fused[1:]
        elif fused:
            raise ConversionError(f"{name}: fused ops {fused} are not supported")
        out = name if not fused else name + "__conv"
        # TF SAME pads the extra pixel at the end, which is ONNX SAME_UPPER.
        self.add(
            "Conv",
            inputs,
            out,
            strides=_ints(attr, "strides")[1:3],
            dilations=_ints(attr, "dilations")[1:3],
            group=group,
            auto_pad="SAME_UPPER" if padding == "SAME" else "VALID",
        )
        if fused == ["Relu"]:
            self.add("Relu", [out], name)
        elif fused == ["Relu6"]:
            self.add("Clip", [out, *self.relu6_bounds()], name)
        elif fused:
            raise ConversionError(f"{name}: fused ops {fused} are not supported")

    def pool(self, name: str, node: dict[str, Any]) -> None:
        attr = node.get("attr", {})
        padding = _text(attr, "padding")
        if _text(attr, "data_format") != "NHWC" or padding not in ("SAME", "VALID"):
            raise ConversionError(f"{name}: only NHWC SAME/VALID pooling is supported")
        self.add(
            "MaxPool",
            [self.value(node["input"][0])],
            name,
            kernel_shape=_ints(attr, "ksize")[1:3],
            strides=_ints(attr, "strides")[1:3],
            auto_pad="SAME_UPPER" if padding == "SAME" else "VALID",
        )

    def convert(self, name: str) -> None:
        node = self.graph.nodes[name]
        op, inputs, attr = node["op"], node.get("input", []), node.get("attr", {})
        if op == "Placeholder":
            self.add("Transpose", [name + "__nhwc"], name, perm=[0, 3, 1, 2])
        elif op in ("_FusedConv2D", "Conv2D"):
            self.conv(name, node, depthwise=False)
        elif op in ("FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
            self.conv(name, node, depthwise=True)
        elif op in ("Add", "AddV2", "Mul", "Sub"):
            onnx_op = {"Add": "Add", "AddV2": "Add", "Mul": "Mul", "Sub": "Sub"}[op]
            operands = [
                self.activation_const(i) if i in self.graph.weights else self.value(i) for i in inputs
            ]
            self.add(onnx_op, operands, name)
        elif op in ("Relu", "Sigmoid", "Identity"):
            self.add(op, [self.value(inputs[0])], name)
            if inputs[0].split(":")[0] in self.plain:
                self.plain[name] = self.plain[inputs[0].split(":")[0]]
        elif op == "Softmax":  # over TF's last axis: the channels of an NCHW activation
            rank = self.plain.get(inputs[0].split(":")[0])
            self.add("Softmax", [self.value(inputs[0])], name, axis=1 if rank is None else -1)
            self.plain |= {} if rank is None else {name: rank}
        elif op == "MaxPool":
            self.pool(name, node)
        elif op == "Pad":  # TF [[before, after]] per NHWC axis → ONNX befores then afters, NCHW order
            pads = self.graph.weights[inputs[1]][[0, 3, 1, 2]].astype(np.int64)
            self.add("Pad", [self.value(inputs[0]), self.const(name + "__pads", pads.T.reshape(-1))], name)
        elif op == "Reshape":  # TF's row-major order is NHWC's: go back to it first
            shape = self.const(name + "__shape", self.graph.weights[inputs[1]].astype(np.int64))
            nhwc = self.add("Transpose", [self.value(inputs[0])], name + "__nhwc", perm=[0, 2, 3, 1])
            self.add("Reshape", [nhwc, shape], name)
            self.plain[name] = self.graph.weights[inputs[1]].size
        elif op == "Relu6":
            self.add(
                "Clip",
                [self.value(inputs[0]), *self.relu6_bounds()],
                name,
            )
        elif op == "Mean":
            axes = sorted(_NHWC_TO_NCHW_AXIS[int(a)] for a in np.atleast_1d(self.graph.weights[inputs[1]]))
            keep = int(attr.get("keep_dims", {}).get("b", False))
            self.add("ReduceMean", [self.value(inputs[0])], name, axes=axes, keepdims=keep)
            self.plain |= {} if keep else {name: 4 - len(axes)}
        elif op == "ConcatV2":
            axis = _NHWC_TO_NCHW_AXIS[int(self.graph.weights[inputs[-1]])]
            self.add("Concat", [self.value(i) for i in inputs[:-1]], name, axis=axis)
        elif op == "ResizeBilinear":
            if attr.get("align_corners", {}).get("b") or attr.get("half_pixel_centers", {}).get("b"):
                raise ConversionError(f"{name}: only asymmetric bilinear resizing is supported")
            height, width = (int(v) for v in self.graph.weights[inputs[1]])
            source = self.value(inputs[0])
            shape = self.add("Shape", [source], name + "__shape", start=0, end=2)
            sizes = self.add(
                "Concat",
                [shape, self.const(name + "__hw", np.array([height, width], np.int64))],
                name + "__sizes",
                axis=0,
            )
            self.add(
                "Resize",
                [source, "", "", sizes],
                name,
                mode="linear",
                coordinate_transformation_mode="asymmetric",
            )
        else:
            raise ConversionError(f"{name}: TF op {op} is not supported")


def _topological_order(graph: TfjsGraph, outputs: list[str]) -> list[str]:
    """Non-constant nodes that ``outputs`` depend on, each after its inputs (iterative: graphs are deep)."""
    order: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(name, False) for name in reversed(outputs)]
    while stack:
        name, expanded = stack.pop()
        if expanded:
            order.append(name)
            continue
        if name in seen or name in graph.weights:
            continue
        if name not in graph.nodes:
            raise ConversionError(f"the graph has no node {name}")
        seen.add(name)
        stack.append((name, True))
        for ref in reversed(graph.nodes[name].get("input", [])):
            stack.append((ref.split(":")[0], False))
    return order


def convert_to_onnx(graph: TfjsGraph, outputs: list[str]) -> onnx.ModelProto:
    """Build an ONNX model from the input placeholder to ``outputs`` (NHWC in, NHWC out)."""
    if len(graph.inputs) != 1:
        raise ConversionError("exactly one input placeholder is supported")
    (input_name,) = graph.inputs
    sizes = [int(d["size"]) for d in graph.nodes[input_name]["attr"]["shape"]["shape"]["dim"]]
    dims: list[int | str] = [size if size > 0 else "n" for size in sizes]  # -1: any batch
    builder = _Builder(graph)
    for name in _topological_order(graph, outputs):
        builder.convert(name)
        builder.done.add(name)
    graph_outputs = []
    for output in outputs:
        source = builder.value(output)
        if output in builder.plain:
            builder.add("Identity", [source], output + "__out")
            dims_out = [f"d{i}" for i in range(builder.plain[output])]
            graph_outputs.append(helper.make_tensor_value_info(output + "__out", TensorProto.FLOAT, dims_out))
            continue
        builder.add("Transpose", [source], output + "__out", perm=[0, 2, 3, 1])
        graph_outputs.append(
            helper.make_tensor_value_info(output + "__out", TensorProto.FLOAT, ["n", "h", "w", "c"])
        )
    onnx_graph = helper.make_graph(
        builder.nodes,
        "tfjs",
        [helper.make_tensor_value_info(input_name + "__nhwc", TensorProto.FLOAT, dims)],
        graph_outputs,
        initializer=list(builder.inits.values()),
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
