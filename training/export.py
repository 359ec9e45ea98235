"""ONNX export (opset pinned, simplified, dynamic batch) and optional INT8 static quantisation.

INT8 uses onnxruntime's ``quantize_static`` with QDQ nodes and per-channel weights, calibrated on real
images letterboxed by ``vision.letterbox`` exactly like inference input. The detect head's decode step
stays FP32: it concatenates box pixels (0…640) with class scores (0…1) into one tensor, and one uint8
scale for both rounds every score to zero (the INT8 model then detects nothing). The gate keeps an INT8
file only if held-out AP50 of *each* class the gate set labels stays within one point of FP32: an overall
mAP50 can hide one class (say, bare heads) losing what another gained.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.offline import prepare_ultralytics
from vision.images import read_image
from vision.letterbox import letterbox, to_input_tensor

OPSET = 17  # pinned: onnxruntime ≥1.16 supports it fully and the QDQ quantiser is well tested on it
_MAX_PIXELS = 50_000_000
QUANTISATION_METHOD = (
    "onnxruntime quantize_static, QDQ, per-channel symmetric int8 weights, uint8 activations "
    "(MinMax calibration); kept FP32: the detect head's decode, the stem and the head's output convolutions"
)


def export_onnx(weights: Path, out: Path, *, imgsz: int, opset: int = OPSET, dynamic: bool = True) -> Path:
    """Export an ultralytics ``.pt`` checkpoint to ``out`` (FP32 ONNX, simplified with onnxslim)."""
    prepare_ultralytics()
    from ultralytics.models import YOLO

    produced = YOLO(str(weights)).export(
        format="onnx", imgsz=imgsz, opset=opset, dynamic=dynamic, simplify=True, device="cpu", half=False
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if Path(produced).resolve() != out.resolve():
        shutil.move(str(produced), out)
    return out


def _input_name_and_size(model: Path) -> tuple[str, int]:
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    inp = graph.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    return inp.name, int(dims[-1]) if dims and dims[-1] > 0 else 640


def decode_nodes(model: Path) -> list[str]:
    """Names of the detect head's decode nodes: the output's module minus its conv branches."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    output = graph.output[0].name
    producer = next((n for n in graph.node if output in n.output), None)
    match = re.match(r"^(/model\.\d+/)", producer.name if producer is not None else "")
    if match is None:
        return []  # not an ultralytics export: quantise everything
    prefix = match.group(1)
    branch = re.compile(re.escape(prefix) + r"cv\d")
    return [n.name for n in graph.node if n.name.startswith(prefix) and not branch.match(n.name)]


def _module(name: str) -> str | None:
    match = re.match(r"^(/model\.\d+/)", name)
    return match.group(1) if match else None


def float_nodes(model: Path) -> list[str]:
    """Nodes INT8 leaves in FP32: the detect head's decode (it must, see above), the stem and the head's
    output convolutions. Measured on ``ppe@2`` (hardhat valid, one change at a time, README "Models"):
    quantising everything else alone lost 2.3 AP50 points on head and helmet; the stem (the convolution
    block reading the image) was nearly all of it: without VNNI, onnxruntime's u8×s8 kernels add pairs of
    products in int16, which saturates on raw image inputs (its documentation names this; 7-bit weights,
    its remedy, recovered most of the loss too). The head's box and class logits are kept float as well
    (0.6 points on head); together 2.6 % of the multiply-adds stay FP32. Percentile calibration, an FP32
    attention block or a float head did not help."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    decode = set(decode_nodes(model))
    consumers: dict[str, list[str]] = {}
    for node in graph.node:
        for tensor in node.input:
            consumers.setdefault(tensor, []).append(node.name)
    image = graph.input[0].name
    stem = {_module(n.name) for n in graph.node if n.op_type == "Conv" and image in n.input} - {None}
    head_out = {
        n.name
        for n in graph.node
        if n.op_type == "Conv" and any(c in decode for t in n.output for c in consumers.get(t, []))
    }
    kept = decode | head_out | {n.name for n in graph.node if _module(n.name) in stem}
    return [n.name for n in graph.node if n.name in kept]


def _tensor(path: Path, size: int) -> npt.NDArray[np.float32]:
    """Calibration input prepared exactly like inference input (vision's letterbox)."""
    tensor, _ = letterbox(read_image(path, max_pixels=_MAX_PIXELS), (size, size))
    return to_input_tensor([tensor])


def quantize_int8(fp32: Path, out: Path, calibration: Sequence[Path], *, imgsz: int | None = None) -> Path:
    """Static INT8 (QDQ, per-channel, symmetric int8 weights / uint8 activations) from calibration images."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    if not calibration:
        raise ValueError("INT8 quantisation needs at least one calibration image")
    name, size = _input_name_and_size(fp32)
    size = imgsz or size

    class _Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it: Iterator[dict[str, npt.NDArray[np.float32]]] = (
                {name: _tensor(p, size)} for p in calibration
            )

        def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
            return next(self._it, None)

    out.parent.mkdir(parents=True, exist_ok=True)
    quantize_static(
        str(fp32),
        str(out),
        _Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=float_nodes(fp32),
    )
    return out


def spread(images: Sequence[Path], count: int) -> list[Path]:
    """``count`` of ``images`` evenly spaced over the list (all of them when there are fewer): the first N
    files of a dataset are often one scene or one source, a spread is not."""
    n = min(count, len(images))
    return [images[round(k * (len(images) - 1) / max(n - 1, 1))] for k in range(n)]


def calibration_images(dirs: Sequence[Path], count: int) -> list[Path]:
    """``count`` calibration images, split evenly between the directories and spread over each one."""
    from training.yolo_dataset import list_images

    if count < 1 or not dirs:
        raise ValueError("INT8 calibration needs at least one image directory and a count >= 1")
    chosen: list[Path] = []
    for i, d in enumerate(dirs):
        chosen += spread(list_images(d), count // len(dirs) + (1 if i < count % len(dirs) else 0))
    return chosen


# Two AP50 values read from a report differ by "exactly 0.01" only up to float rounding (0.85 - 0.84 is
# 0.010000000000000009): the gate compares with this much slack so a drop of 0.01 is kept as documented.
_EPS = 1e-9


@dataclass(frozen=True)
class ClassCheck:
    """One class of the gate set: held-out AP50 of FP32 and of INT8."""

    name: str
    fp32_ap50: float
    int8_ap50: float

    @property
    def drop(self) -> float:
        return self.fp32_ap50 - self.int8_ap50


@dataclass(frozen=True)
class Int8Decision:
    """INT8 is kept only if *every* class the gate set labels lost at most ``max_drop`` AP50."""

    checks: tuple[ClassCheck, ...]
    max_drop: float

    @property
    def refused_classes(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.drop > self.max_drop + _EPS)

    @property
    def kept(self) -> bool:
        return bool(self.checks) and not self.refused_classes

    @property
    def message(self) -> str:
        per_class = ", ".join(
            f"{c.name} {c.fp32_ap50:.4f} → {c.int8_ap50:.4f} ({-c.drop:+.4f})" for c in self.checks
        )
        if not self.checks:
            return "INT8 refused: the gate set labels no class the model detects"
        if self.kept:
            return f"INT8 kept: AP50 per class within {self.max_drop} of FP32: {per_class}"
        return (
            f"INT8 refused: AP50 of {', '.join(self.refused_classes)} dropped by more than "
            f"{self.max_drop}: {per_class}"
        )


def decide_int8(
    fp32_ap50: Mapping[str, float], int8_ap50: Mapping[str, float], *, max_drop: float = 0.01
) -> Int8Decision:
    """The per-class gate. ``fp32_ap50`` names the classes the gate set labels (ground truth present);
    a class INT8 has no figure for counts as AP50 0 (it lost the class)."""
    if max_drop < 0:
        raise ValueError("max_drop must be >= 0")
    checks = tuple(ClassCheck(name, ap, int8_ap50.get(name, 0.0)) for name, ap in fp32_ap50.items())
    return Int8Decision(checks, max_drop)


@dataclass(frozen=True)
class Int8Outcome:
    """The quantised file and the gate's decision; a refused file has been deleted."""

    path: Path
    decision: Int8Decision

    @property
    def kept(self) -> bool:
        return self.decision.kept

    @property
    def message(self) -> str:
        return self.decision.message + ("" if self.kept else f"; removed {self.path}")


def gated_int8(
    fp32: Path,
    out: Path,
    calibration: Sequence[Path],
    ap50_of: Callable[[Path], Mapping[str, float]],
    *,
    max_drop: float = 0.01,
    imgsz: int | None = None,
    fp32_ap50: Mapping[str, float] | None = None,
) -> Int8Outcome:
    """Quantise ``fp32`` to ``out``; keep it only if each class's AP50 is within ``max_drop`` of FP32's.

    ``ap50_of`` evaluates a model file on the gate set and returns AP50 per class the set labels (the CLI
    uses hazardeye's own runtime); ``fp32_ap50`` skips re-evaluating FP32 when the caller already has it.
    A refused INT8 file is deleted so it cannot be shipped by accident.
    """
    if max_drop < 0:
        raise ValueError("max_drop must be >= 0")
    quantize_int8(fp32, out, calibration, imgsz=imgsz)
    reference = dict(fp32_ap50) if fp32_ap50 is not None else dict(ap50_of(fp32))
    decision = decide_int8(reference, ap50_of(out), max_drop=max_drop)
    if not decision.kept:
        out.unlink()
    return Int8Outcome(out, decision)
