"""Tiny ONNX graphs standing in for models with unusual inputs, outputs or metadata."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnx
from onnx import TensorProto, helper


def tiny_model(
    path: Path,
    input_shapes: Sequence[Sequence[int | str]],
    channels: int = 5,
    *,
    layout: str = "yolo",
    stride: str | None = None,
) -> Path:
    """Inputs of the given shapes and one output from the first through a 1x1 convolution, valid for
    any height and width. ``layout``: "yolo" (1, channels, 1); "4d" (1, channels, 1, 1); "rows"
    (1, channels x height, 1), whose channel count only a run can tell."""
    inputs = [
        helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(shape))
        for i, shape in enumerate(input_shapes)
    ]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [channels, 3, 1, 1], [0.1] * (channels * 3))
    reshape_to = helper.make_tensor("shape", TensorProto.INT64, [3], [0, -1, 1])
    axes = [3] if layout == "rows" else [2, 3]
    nodes = [
        helper.make_node("ReduceMean", ["x0"], ["mean"], axes=axes, keepdims=1),
        helper.make_node("Conv", ["mean", "w"], ["y" if layout == "4d" else "conv"]),
    ]
    if layout != "4d":
        nodes.append(helper.make_node("Reshape", ["conv", "shape"], ["y"]))
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "tiny", inputs, [output], initializer=[weight, reshape_to])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if stride is not None:
        helper.set_model_props(model, {"stride": stride})
    onnx.save(onnx.shape_inference.infer_shapes(model), str(path))
    return path
