"""INT8 static quantisation round trip on a real trained detector (the shipped PPE model), through the
same code the CLI uses: I/O contract kept, detections close to FP32, and the per-class gate drops a
degraded INT8."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from train_fixtures import HARDHAT_FIXTURES, hardhat_fixture_yaml, shipped_ppe_model

from training.evaluation_service import ModelUnderTest, evaluate_model
from training.export import Int8Outcome, decode_nodes, float_nodes, gated_int8, quantize_int8
from training.int8_variant import labelled_ap50
from vision.detections import Detections
from vision.images import read_image
from vision.onnx_detector import DetectorOptions, OnnxDetector

pytestmark = pytest.mark.slow  # two quantisations of a 2.6 M-parameter model: ~20 s on 2 cores

THRESHOLD = 0.3


@dataclass(frozen=True)
class Quantised:
    fp32: Path
    classes: tuple[str, ...]
    size: tuple[int, int]
    data: Path
    kept: Int8Outcome
    refused: Int8Outcome
    out_dir: Path


def _fixture_images() -> list[Path]:
    return sorted((HARDHAT_FIXTURES / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def quantised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quantised]:
    root = tmp_path_factory.mktemp("int8")
    fp32, classes, size = shipped_ppe_model()
    data = hardhat_fixture_yaml(root / "data")

    def ap50_of(model: Path) -> dict[str, float]:
        mut = ModelUnderTest(model, classes, size, tuple(THRESHOLD for _ in classes), model.stem)
        return labelled_ap50(evaluate_model(mut, data, "val", root / f"eval_{model.stem}"))

    # Four photos make a noisy AP: the gate here allows 5 points per class (the shipped one allows 1).
    kept = gated_int8(fp32, root / "good.int8.onnx", _fixture_images(), ap50_of, max_drop=0.05)
    # Calibrating on one black frame gives activation ranges far too small for real photos: every
    # real activation saturates. The gate must notice the AP loss and remove the file.
    black = root / "black.png"
    cv2.imwrite(str(black), np.zeros((size[1], size[0], 3), np.uint8))
    refused = gated_int8(fp32, root / "bad.int8.onnx", [black], ap50_of, max_drop=0.05)
    yield Quantised(fp32, classes, size, data, kept, refused, root)


def _detect(model: Path, q: Quantised) -> list[Detections]:
    det = OnnxDetector(
        model, q.classes, q.size, default_threshold=THRESHOLD, options=DetectorOptions(intra_op_threads=1)
    )
    return det.detect_many([read_image(p, max_pixels=10_000_000) for p in _fixture_images()])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def test_good_calibration_is_kept_and_preserves_the_io_contract(quantised: Quantised) -> None:
    q = quantised.kept
    assert q.kept and q.path.is_file()
    assert {c.name for c in q.decision.checks} == {"head", "helmet"}  # the classes the photos label
    assert all(c.drop <= 0.05 for c in q.decision.checks)
    assert np.mean([c.int8_ap50 for c in q.decision.checks]) > 0.5  # it still detects after quantisation
    fp32 = ort.InferenceSession(str(quantised.fp32), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(q.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in int8.get_inputs()] == [i.name for i in fp32.get_inputs()]
    w, h = quantised.size
    batch = np.random.default_rng(0).random((2, 3, h, w), dtype=np.float32)
    out_fp32 = fp32.run(None, {fp32.get_inputs()[0].name: batch})[0]
    out_int8 = int8.run(None, {int8.get_inputs()[0].name: batch})[0]
    assert out_int8.shape == out_fp32.shape  # dynamic batch kept; 4 box + one score per class
    assert out_int8.shape[1] == 4 + len(quantised.classes)
    ops = {n.op_type for n in onnx.load(str(q.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert q.path.stat().st_size < quantised.fp32.stat().st_size / 2


def test_decode_step_and_sensitive_layers_stay_float(quantised: Quantised) -> None:
    """Box pixels and class scores share the output tensor; quantising it zeroes every score. The stem
    and the head's output convolutions stay FP32 too (they cost AP50 points on ``ppe@2``)."""
    excluded = decode_nodes(quantised.fp32)
    assert excluded
    kept_float = float_nodes(quantised.fp32)
    assert set(excluded) < set(kept_float)
    assert "/model.0/conv/Conv" in kept_float  # the stem
    assert not any(n.startswith("/model.10/") for n in kept_float)  # attention is quantised
    assert {"/model.23/cv2.0/cv2.0.2/Conv", "/model.23/cv3.2/cv3.2.2/Conv"} <= set(kept_float)
    quantised_convs = [
        n.input[0] for n in onnx.load(str(quantised.kept.path)).graph.node if n.op_type == "Conv"
    ]
    assert sum(name.endswith("DequantizeLinear_Output") for name in quantised_convs) > 50
    graph = onnx.load(str(quantised.kept.path)).graph
    producers = {out: n for n in graph.node for out in n.output}
    final = producers[graph.output[0].name]
    assert final.op_type == "Concat"
    assert all(producers[i].op_type != "DequantizeLinear" for i in final.input if i in producers)


def test_int8_detections_are_close_to_fp32(quantised: Quantised) -> None:
    """Every confident FP32 detection has an INT8 twin: same class, same place, similar confidence.

    Marginal detections (near the 0.3 threshold) may legitimately flip; confident ones must not.
    """
    ref, got = _detect(quantised.fp32, quantised), _detect(quantised.kept.path, quantised)
    confident = matched = 0
    diffs: list[float] = []
    for r, g in zip(ref, got, strict=True):
        for i in np.flatnonzero(r.confidences >= 0.5):
            confident += 1
            twins = [
                abs(float(g.confidences[j] - r.confidences[i]))
                for j in range(len(g))
                if g.class_ids[j] == r.class_ids[i] and _iou(r.boxes[i], g.boxes[j]) >= 0.6
            ]
            if twins and min(twins) <= 0.25:
                matched += 1
                diffs.append(min(twins))
        assert abs(len(g) - len(r)) <= max(1, len(r) // 3)
    assert confident >= 8  # the fixture images really contain confident detections
    assert matched / confident >= 0.9
    assert float(np.mean(diffs)) < 0.12


def test_gate_refuses_and_removes_a_degraded_int8(quantised: Quantised) -> None:
    q = quantised.refused
    assert not q.kept
    assert not q.path.exists()
    assert q.decision.refused_classes
    fp32 = {c.name: c.fp32_ap50 for c in q.decision.checks}
    assert fp32 == pytest.approx({c.name: c.fp32_ap50 for c in quantised.kept.decision.checks})
    assert "refused" in q.message and "removed" in q.message


def test_gate_and_quantiser_reject_bad_arguments(quantised: Quantised, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="calibration"):
        quantize_int8(quantised.fp32, tmp_path / "x.onnx", [])
    with pytest.raises(ValueError, match="max_drop"):
        gated_int8(quantised.fp32, tmp_path / "y.onnx", _fixture_images(), lambda _p: {}, max_drop=-0.1)
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "y.onnx").exists()
