"""ONNX export (opset pinned, simplified, dynamic batch) and optional INT8 static quantisation.

INT8 uses onnxruntime's ``quantize_static`` with QDQ nodes and per-channel weights, calibrated on real
images letterboxed by ``vision.letterbox`` exactly like inference input.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
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
    )
    return out
