"""The detector's decode, thresholds, model checks and session options, pinned by hand.

Raw predictions are written out anchor by anchor and the expected boxes computed by hand, so a slip in
the decode (a halved width, a strict comparison, a lost class name) fails here whatever the model learnt.
Tiny ONNX graphs stand in for models with unusual inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.unit.vision.paths import MODELS_DIR
from tests.unit.vision.tiny_models import tiny_model
from vision import onnx_detector
from vision.engines import PROVIDER_PREFERENCE, make_session
from vision.letterbox import LetterboxTransform
from vision.onnx_detector import DetectorOptions, ModelError, OnnxDetector

PPE2 = MODELS_DIR / "ppe" / "2" / "model.onnx"
CLASSES = ("head", "helmet", "person", "vest")
IDENTITY = LetterboxTransform(scale=1.0, pad_x=0, pad_y=0, source_size=(1000, 1000))

Anchor = tuple[float, float, float, float, str, float]  # cx, cy, w, h, class, score


def _prediction(anchors: Sequence[Anchor]) -> np.ndarray:
    out = np.zeros((4 + len(CLASSES), len(anchors)), np.float32)
    for column, (cx, cy, w, h, name, score) in enumerate(anchors):
        out[:4, column] = (cx, cy, w, h)
        out[4 + CLASSES.index(name), column] = score
    return out


def _far_apart(scores: Sequence[tuple[str, float]]) -> list[Anchor]:
    """One 20x20 box per score, 100 px apart, so NMS keeps every one."""
    return [(50.0 + 100 * i, 50.0, 20.0, 20.0, name, score) for i, (name, score) in enumerate(scores)]


@pytest.fixture(scope="module")
def thresholded() -> OnnxDetector:
    # head 0.5, helmet 0.3, person and vest the default 0.4.
    return OnnxDetector(
        PPE2, CLASSES, (416, 416), thresholds={"head": 0.5, "helmet": 0.3}, default_threshold=0.4
    )


def _found(detections: onnx_detector.Detections) -> list[tuple[str, float]]:
    return sorted(
        (CLASSES[int(c)], round(float(s), 3))
        for c, s in zip(detections.class_ids, detections.confidences, strict=True)
    )


def test_centre_size_predictions_become_corner_boxes_in_source_pixels(thresholded: OnnxDetector) -> None:
    prediction = _prediction([(100.0, 50.0, 40.0, 20.0, "head", 0.9)])
    found = thresholded._decode(prediction, IDENTITY)
    np.testing.assert_array_equal(found.boxes, [[80, 40, 120, 60]])
    assert found.class_names == CLASSES
    # Scaled by 2 and padded by (10, 4): x = (80 - 10) / 2 ... y = (40 - 4) / 2 ...
    scaled = LetterboxTransform(scale=2.0, pad_x=10, pad_y=4, source_size=(500, 500))
    np.testing.assert_array_equal(thresholded._decode(prediction, scaled).boxes, [[35, 18, 55, 28]])


def test_each_class_keeps_scores_at_or_above_its_own_threshold(thresholded: OnnxDetector) -> None:
    scores = [
        ("head", 0.5),
        ("head", 0.49),  # head's threshold 0.5: equal is kept
        ("helmet", 0.3),
        ("helmet", 0.29),  # helmet's 0.3, the lowest of all
        ("person", 0.4),
        ("person", 0.39),  # the default 0.4
        ("vest", 0.35),  # above the lowest threshold, below its own: dropped
    ]
    found = thresholded._decode(_prediction(_far_apart(scores)), IDENTITY)
    assert _found(found) == [("head", 0.5), ("helmet", 0.3), ("person", 0.4)]


def test_the_default_threshold_is_a_quarter() -> None:
    detector = OnnxDetector(PPE2, CLASSES, (416, 416))
    found = detector._decode(_prediction(_far_apart([("vest", 0.25), ("vest", 0.24)])), IDENTITY)
    assert _found(found) == [("vest", 0.25)]


@pytest.mark.parametrize(
    "scores",
    [[("head", 0.2), ("helmet", 0.1)], [("vest", 0.35)]],
    ids=["all below every threshold", "above the lowest threshold only"],
)
def test_nothing_kept_is_empty_detections_that_still_name_the_classes(
    thresholded: OnnxDetector, scores: list[tuple[str, float]]
) -> None:
    found = thresholded._decode(_prediction(_far_apart(scores)), IDENTITY)
    assert len(found.boxes) == 0 and found.class_names == CLASSES


def test_over_the_candidate_cap_the_most_confident_are_kept(
    thresholded: OnnxDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_detector, "MAX_CANDIDATES", 2)
    found = thresholded._decode(
        _prediction(_far_apart([("head", 0.9), ("head", 0.6), ("head", 0.7)])), IDENTITY
    )
    assert _found(found) == [("head", 0.7), ("head", 0.9)]


def test_max_detections_keeps_the_most_confident() -> None:
    detector = OnnxDetector(PPE2, CLASSES, (416, 416), options=DetectorOptions(max_detections=1))
    found = detector._decode(_prediction(_far_apart([("head", 0.6), ("head", 0.9), ("head", 0.7)])), IDENTITY)
    assert _found(found) == [("head", 0.9)]


# --- model checks on tiny graphs ---------------------------------------------------------------------


def _refusal(path: Path, input_size: tuple[int, int] = (32, 32), classes: Sequence[str] = ("head",)) -> str:
    with pytest.raises(ModelError) as error:
        OnnxDetector(path, classes, input_size)
    return str(error.value)


def test_a_model_with_two_inputs_is_refused(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, 32, 32], [1, 3, 32, 32]])
    assert _refusal(path) == f"{path}: expected 1 input and 1 output, got 2/1"


def test_a_model_whose_output_is_not_three_dimensional_is_refused(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, 32, 32]], layout="4d")
    assert _refusal(path) == f"{path}: not a YOLO detection model (input [1, 3, 32, 32], output [1, 5, 1, 1])"


def test_a_fixed_non_square_input_is_accepted_when_the_card_agrees(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, 32, 64]])
    detector = OnnxDetector(path, ["head"], (32, 64))
    assert detector.stride is None  # fixed height and width: square layout at the model's own input
    assert detector.input_shape_for((100, 100)) == (32, 64)


def test_a_fixed_input_the_card_disagrees_with_is_refused_naming_both(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, 32, 64]])
    assert _refusal(path, (48, 32)) == f"{path}: model input is 32x64 but the card says 48x32"


def test_a_model_with_one_dynamic_side_is_fed_rects(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, 32, "width"]])
    assert OnnxDetector(path, ["head"], (32, 32)).stride == 32


@pytest.mark.parametrize(
    ("stride", "expected"),
    [("64", 64), ("1", 1), ("0", 32), ("-8", 32), ("abc", 32), ("", 32), (None, 32)],
)
def test_the_stride_comes_from_the_model_metadata_else_32(
    tmp_path: Path, stride: str | None, expected: int
) -> None:
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, "h", "w"]], stride=stride)
    assert OnnxDetector(path, ["head"], (32, 32)).stride == expected


def test_an_output_that_does_not_fit_the_card_at_run_time_is_refused(tmp_path: Path) -> None:
    # The channel count depends on the input's height, so only a run can tell: 2 x 32 for 1 class.
    path = tiny_model(tmp_path / "m.onnx", [[1, 3, "h", "w"]], channels=2, layout="rows")
    detector = OnnxDetector(path, ["head"], (32, 32))
    with pytest.raises(ModelError) as error:
        detector.detect(np.zeros((32, 32, 3), np.uint8))
    assert str(error.value) == (
        f"{path}: output shape (1, 64, 1) does not fit 1 classes (expected (batch, 5, anchors))"
    )


def test_an_unloadable_file_is_refused_with_onnxruntimes_reason(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError) as error:
        make_session(path)
    message = str(error.value)
    assert message.startswith(f"{path}: cannot load ONNX model (")
    assert "(None)" not in message and "Protobuf parsing failed" in message


def test_session_defaults_and_the_thread_count_given() -> None:
    options = make_session(PPE2).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.inter_op_num_threads == 1
    assert options.enable_cpu_mem_arena is True
    assert options.log_severity_level == 3
    spinning = OnnxDetector(PPE2, CLASSES, (416, 416), options=DetectorOptions(allow_spinning=True))
    assert (
        spinning.session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")
        == "1"
    )
    detector = OnnxDetector(PPE2, CLASSES, (416, 416), options=DetectorOptions(intra_op_threads=1))
    assert detector.session.get_session_options().intra_op_num_threads == 1
    # Every provider this onnxruntime build offers, in the preference order (CPU last).
    offered = set(ort.get_available_providers())
    assert detector.providers == [p for p in PROVIDER_PREFERENCE if p in offered]
    assert detector.providers[-1] == "CPUExecutionProvider"


# --- batching ------------------------------------------------------------------------------------------


def _run_shapes(
    detector: OnnxDetector, images: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    run = detector._run

    def recording(tensor: np.ndarray) -> np.ndarray:
        shapes.append(tensor.shape)
        return run(tensor)

    monkeypatch.setattr(detector, "_run", recording)
    detector.detect_many(images)
    return shapes


LANDSCAPE = np.full((300, 500, 3), 90, np.uint8)  # fed at 256x416
PORTRAIT = np.full((500, 300, 3), 90, np.uint8)  # fed at 416x256


def test_mixed_shapes_are_batched_by_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = OnnxDetector(PPE2, CLASSES, (416, 416), options=DetectorOptions(batch_size=2))
    shapes = _run_shapes(detector, [LANDSCAPE, PORTRAIT, LANDSCAPE, PORTRAIT], monkeypatch)
    assert shapes == [(2, 3, 256, 416), (2, 3, 416, 256)]  # not two mixed batches padded to 416x416


def test_two_images_are_already_sorted_by_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = OnnxDetector(PPE2, CLASSES, (416, 416), options=DetectorOptions(batch_size=1))
    assert _run_shapes(detector, [PORTRAIT, LANDSCAPE], monkeypatch) == [(1, 3, 256, 416), (1, 3, 416, 256)]


def test_a_score_equal_to_its_threshold_is_kept_in_float32() -> None:
    # 0.7 is 0.69999999 as a float32 score: compared with a float64 0.7 it would be dropped.
    detector = OnnxDetector(PPE2, CLASSES, (416, 416), thresholds={"helmet": 0.7})
    found = detector._decode(_prediction(_far_apart([("helmet", 0.7)])), IDENTITY)
    assert _found(found) == [("helmet", 0.7)]
