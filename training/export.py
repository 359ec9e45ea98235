"""ONNX export (opset pinned, simplified, dynamic batch) and optional INT8 static quantisation.

INT8 uses onnxruntime's ``quantize_static`` with QDQ nodes and per-channel weights, calibrated on real
images letterboxed by ``vision.letterbox`` exactly like inference input. The detect head's decode step
stays FP32: it concatenates box pixels (0…640) with class scores (0…1) into one tensor, and one uint8
scale for both rounds every score to zero (the INT8 model then detects nothing).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.offline import prepare_ultralytics
from vision.images import read_image
from vision.letterbox import letterbox, to_input_tensor

OPSET = 17  # pinned: onnxruntime ≥1.16 supports it fully and the QDQ quantiser is well tested on it
_MAX_PIXELS = 50_000_000


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
        nodes_to_exclude=decode_nodes(fp32),
    )
    return out


@dataclass(frozen=True)
class Int8Outcome:
    """What the INT8 gate decided: the quantised file is kept only if mAP50 fell by at most ``max_drop``."""

    path: Path
    kept: bool
    fp32_map50: float
    int8_map50: float
    max_drop: float

    @property
    def drop(self) -> float:
        return self.fp32_map50 - self.int8_map50

    @property
    def message(self) -> str:
        if self.kept:
            return f"INT8 kept: mAP50 {self.int8_map50:.4f} vs FP32 {self.fp32_map50:.4f}"
        return (
            f"INT8 refused: mAP50 dropped by {self.drop:.4f} > {self.max_drop} "
            f"({self.fp32_map50:.4f} → {self.int8_map50:.4f}); removed {self.path}"
        )


def gated_int8(
    fp32: Path,
    out: Path,
    calibration: Sequence[Path],
    map50_of: Callable[[Path], float],
    *,
    max_drop: float = 0.01,
    imgsz: int | None = None,
) -> Int8Outcome:
    """Quantise ``fp32`` to ``out`` and keep it only if ``map50_of(int8)`` is within ``max_drop`` of FP32's.

    ``map50_of`` evaluates a model file on the gate's dataset (the CLI uses hazardeye's own runtime).
    A refused INT8 file is deleted so it cannot be shipped by accident.
    """
    if max_drop < 0:
        raise ValueError("max_drop must be >= 0")
    quantize_int8(fp32, out, calibration, imgsz=imgsz)
    fp32_map50, int8_map50 = map50_of(fp32), map50_of(out)
    kept = fp32_map50 - int8_map50 <= max_drop
    if not kept:
        out.unlink()
    return Int8Outcome(out, kept, fp32_map50, int8_map50, max_drop)
