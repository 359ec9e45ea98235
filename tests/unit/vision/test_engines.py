"""OpenVINO and onnxruntime behind the same detector: the same boxes, the same checks, thread-safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tests.unit.vision.paths import HARDHAT, MODELS_DIR
from tests.unit.vision.tiny_models import tiny_model
from vision.detections import Detections
from vision.engines import available_engines, open_engine
from vision.images import read_image
from vision.model_card import read_card
from vision.nms import box_iou
from vision.onnx_detector import DetectorOptions, ModelError, OnnxDetector

PPE2 = MODELS_DIR / "ppe" / "2"
# Every photo fixture: hardhat scenes, before/after pairs (one of corrosion: no PPE in it), the clip frame.
FIXTURES = sorted(HARDHAT.parent.glob("*/*.jpg")) + sorted((HARDHAT / "images").glob("*.jpg"))


def _detector(engine: str, **options: object) -> OnnxDetector:
    card = read_card(PPE2 / "card.json")
    return OnnxDetector(
        PPE2 / "model.onnx",
        card.classes,
        card.input_size,
        thresholds=card.thresholds,
        default_threshold=card.default_threshold,
        options=DetectorOptions(engine=engine, iou_threshold=card.iou_threshold, **options),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def both() -> tuple[OnnxDetector, OnnxDetector]:
    return _detector("onnxruntime"), _detector("openvino")


def test_openvino_is_installed_for_the_tests() -> None:
    assert available_engines() == ["onnxruntime", "openvino"]


def test_both_engines_find_the_same_boxes_on_every_fixture(both: tuple[OnnxDetector, OnnxDetector]) -> None:
    reference, openvino = both
    assert len(FIXTURES) >= 5
    images = [read_image(path, max_pixels=50_000_000) for path in FIXTURES]
    compared = 0
    for path, ours, theirs in zip(
        FIXTURES, reference.detect_many(images), openvino.detect_many(images), strict=True
    ):
        assert list(ours.class_ids) == list(theirs.class_ids), path.name
        np.testing.assert_allclose(theirs.boxes, ours.boxes, atol=0.5, err_msg=path.name)  # rounding only
        np.testing.assert_allclose(theirs.confidences, ours.confidences, atol=2e-3, err_msg=path.name)
        compared += len(ours.boxes)
    assert compared >= 10  # the fixtures hold real detections, not empty lists


def test_the_openvino_engine_reads_the_stride_and_refuses_what_onnxruntime_refuses(tmp_path: Path) -> None:
    assert _detector("openvino").stride == 32
    strided = tiny_model(tmp_path / "strided.onnx", [[1, 3, "h", "w"]], stride="64")
    assert OnnxDetector(strided, ["head"], (32, 32), options=DetectorOptions(engine="openvino")).stride == 64
    two_inputs = tiny_model(tmp_path / "two.onnx", [[1, 3, 32, 32], [1, 3, 32, 32]])
    with pytest.raises(ModelError) as error:
        OnnxDetector(two_inputs, ["head"], (32, 32), options=DetectorOptions(engine="openvino"))
    assert str(error.value) == f"{two_inputs}: expected 1 input and 1 output, got 2/1"


def test_a_corrupt_file_and_an_unknown_engine_are_clear_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "m.onnx"
    corrupt.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match=r"^.*m\.onnx: cannot load ONNX model \("):
        open_engine("openvino", corrupt)
    with pytest.raises(ModelError) as error:
        open_engine("tensorrt", corrupt)  # type: ignore[arg-type]
    assert str(error.value) == "unknown inference engine 'tensorrt' (known: onnxruntime, openvino)"


def test_the_onnxruntime_session_is_only_there_for_onnxruntime(
    both: tuple[OnnxDetector, OnnxDetector],
) -> None:
    reference, openvino = both
    assert reference.session.get_providers()[-1] == "CPUExecutionProvider"
    with pytest.raises(ModelError, match="runs on openvino, not onnxruntime"):
        _ = openvino.session
    assert openvino.providers == ["OpenVINO CPU"]


def _same(a: Detections, b: Detections) -> bool:
    if len(a.boxes) != len(b.boxes) or list(a.class_ids) != list(b.class_ids):
        return False
    return all(float(box_iou(x, y[None, :])[0]) > 0.999 for x, y in zip(a.boxes, b.boxes, strict=True))


def test_one_openvino_detector_serves_several_threads(both: tuple[OnnxDetector, OnnxDetector]) -> None:
    _, openvino = both
    images = [read_image(path, max_pixels=50_000_000) for path in FIXTURES[:4]] * 3
    alone = [openvino.detect(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(openvino.detect, images))
    assert all(_same(a, b) for a, b in zip(alone, together, strict=True))
