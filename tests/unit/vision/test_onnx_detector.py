"""Decode on the real shipped model, fixed vs dynamic batch, and models that must be refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tests.unit.vision.paths import HARDHAT, MODELS_DIR
from vision.images import read_image
from vision.letterbox import letterbox, to_input_tensor
from vision.model_card import read_card, sha256_of
from vision.nms import box_iou
from vision.onnx_detector import DetectorOptions, ModelError, OnnxDetector, make_session
from vision.registry import ModelRegistry

FIXTURES = sorted((HARDHAT / "images").glob("*.jpg"))


def _image(name: str) -> np.ndarray:
    return read_image(HARDHAT / "images" / name, max_pixels=10**8)


def _ground_truth(name: str) -> list[int]:
    text = (HARDHAT / "labels" / name).with_suffix(".txt").read_text()
    return [int(line.split()[0]) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    # The runtime's mechanics (rect shapes, batching, decode) are pinned on ppe@1 (320 px, 3 classes),
    # which stays in models/; the shipped model's behaviour is tested in test_shipped_model_on_video.py.
    return ModelRegistry(MODELS_DIR).detector("ppe", 1)[1]


def test_shipped_model_detects_boxes_inside_the_image_with_known_classes(detector: OnnxDetector) -> None:
    for path in FIXTURES:
        image = read_image(path, max_pixels=10**8)
        detections = detector.detect(image)
        height, width = image.shape[:2]
        assert len(detections) > 0, path.name
        assert (detections.boxes[:, [0, 2]] >= 0).all() and (detections.boxes[:, [0, 2]] <= width).all()
        assert (detections.boxes[:, [1, 3]] >= 0).all() and (detections.boxes[:, [1, 3]] <= height).all()
        assert (detections.boxes[:, 2] > detections.boxes[:, 0]).all()
        assert set(detections.class_ids.tolist()) <= {0, 1, 2}


def test_helmet_crowd_is_seen_as_helmets_not_heads(detector: OnnxDetector) -> None:
    # 004944: seven workers, all wearing helmets (ground truth: seven helmet boxes, no head box).
    assert _ground_truth("004944.jpg") == [1] * 7
    detections = detector.detect(_image("004944.jpg"))
    labels = [detections.label(i) for i in range(len(detections))]
    assert labels.count("helmet") >= 4
    assert labels.count("head") == 0


def test_detections_land_on_ground_truth_boxes(detector: OnnxDetector) -> None:
    image = _image("004944.jpg")
    height, width = image.shape[:2]
    rows = [line.split() for line in (HARDHAT / "labels" / "004944.txt").read_text().splitlines() if line]
    truth = np.array([[float(v) for v in row[1:]] for row in rows])
    centres = truth[:, :2] * [width, height]
    detections = detector.detect(image)
    found = (detections.boxes[:, :2] + detections.boxes[:, 2:]) / 2
    nearest = np.linalg.norm(found[:, None, :] - centres[None, :, :], axis=2).min(axis=1)
    assert (nearest < 15).mean() >= 0.75  # boxes sit on real helmets, in input-image pixels


def test_detect_many_of_one_shape_equals_one_by_one(detector: OnnxDetector) -> None:
    # 004944/45/47 all become 224x320 inputs: the batch is exactly what each image gets alone.
    images = [_image(name) for name in ("004944.jpg", "004945.jpg", "004947.jpg")]
    assert {detector.input_shape_for(image.shape[:2]) for image in images} == {(224, 320)}
    batched = detector.detect_many(images)
    for image, together in zip(images, batched, strict=True):
        alone = detector.detect(image)
        np.testing.assert_allclose(together.boxes, alone.boxes, atol=1e-2)
        np.testing.assert_array_equal(together.class_ids, alone.class_ids)


def test_detect_many_of_mixed_shapes_keeps_order_and_agrees_with_one_by_one(detector: OnnxDetector) -> None:
    # 004951 (375x500) needs 256x320: the others are padded to it in the batch, bottom rows only, so
    # their boxes move by a fraction of a pixel and confidences by ~0.02 (convolutions near the bottom
    # border see more grey), no more; the alternative, splitting batches by shape, would cost batch size.
    names = ("004951.jpg", "004944.jpg", "004945.jpg", "004947.jpg")
    images = [_image(name) for name in names]
    batched = detector.detect_many(images)
    for name, image, together in zip(names, images, batched, strict=True):
        alone = detector.detect(image)
        np.testing.assert_array_equal(together.class_ids, alone.class_ids, err_msg=name)
        np.testing.assert_allclose(together.boxes, alone.boxes, atol=0.5, err_msg=name)
        np.testing.assert_allclose(together.confidences, alone.confidences, atol=0.05, err_msg=name)


def test_dynamic_model_is_fed_the_minimal_rect(detector: OnnxDetector) -> None:
    assert detector.stride == 32
    assert detector.input_shape_for((332, 500)) == (224, 320)
    assert detector.input_shape_for((375, 500)) == (256, 320)
    assert detector.input_shape_for((1000, 600)) == (320, 192)


def test_detect_is_session_output_at_the_rect_shape_decoded(detector: OnnxDetector) -> None:
    # The detector's own result equals running its session by hand on the 224x320 letterbox.
    image = _image("004944.jpg")
    canvas, transform = letterbox(image, detector.input_size, stride=32)
    assert canvas.shape[:2] == (224, 320)
    output = detector.session.run(None, {"images": to_input_tensor([canvas])})[0]
    assert output.shape == (1, 7, (224 // 8) * (320 // 8) + (224 // 16) * (320 // 16) + (224 // 32) * 10)
    by_hand = detector._decode(output[0], transform)
    found = detector.detect(image)
    np.testing.assert_array_equal(found.boxes, by_hand.boxes)
    np.testing.assert_array_equal(found.class_ids, by_hand.class_ids)


def _fixed_size_copy(tmp_path: Path, size: int) -> Path:
    model = onnx.load(str(MODELS_DIR / "ppe" / "1" / "model.onnx"))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for axis in (2, 3):
        dims[axis].ClearField("dim_param")
        dims[axis].dim_value = size
    path = tmp_path / "fixed_size.onnx"
    onnx.save(model, str(path))
    return path


def test_fixed_size_model_keeps_the_square_and_finds_the_same_objects(
    tmp_path: Path, detector: OnnxDetector
) -> None:
    card = read_card(MODELS_DIR / "ppe" / "1" / "card.json")
    square = OnnxDetector(
        _fixed_size_copy(tmp_path, 320), card.classes, card.input_size, thresholds=card.thresholds
    )
    assert square.stride is None and square.input_shape_for((332, 500)) == (320, 320)
    for path in FIXTURES:
        image = read_image(path, max_pixels=10**8)
        rect_found, square_found = detector.detect(image), square.detect(image)
        # Same objects either way: every confident square box has a rect box of its class on top of it.
        for index in np.flatnonzero(square_found.confidences >= 0.5):
            same_class = rect_found.boxes[rect_found.class_ids == square_found.class_ids[index]]
            assert same_class.size, path.name
            assert _best_iou(square_found.boxes[index], same_class) > 0.8, path.name


def _best_iou(box: np.ndarray, boxes: np.ndarray) -> float:
    return float(box_iou(box.astype(np.float32), boxes.astype(np.float32)).max())


def test_rect_can_be_turned_off(detector: OnnxDetector) -> None:
    card = read_card(MODELS_DIR / "ppe" / "1" / "card.json")
    square = OnnxDetector(
        MODELS_DIR / "ppe" / "1" / "model.onnx",
        card.classes,
        card.input_size,
        options=DetectorOptions(rect=False),
    )
    assert square.stride is None and square.input_shape_for((332, 500)) == (320, 320)


def test_fixed_size_model_whose_card_disagrees_is_refused(tmp_path: Path) -> None:
    card = read_card(MODELS_DIR / "ppe" / "1" / "card.json")
    with pytest.raises(ModelError, match="model input is 320x320 but the card says 416x416"):
        OnnxDetector(_fixed_size_copy(tmp_path, 320), card.classes, (416, 416))


def test_session_options_are_the_deliberate_ones(detector: OnnxDetector) -> None:
    options = detector.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    spinning = make_session(MODELS_DIR / "ppe" / "1" / "model.onnx", 1, allow_spinning=True)
    assert spinning.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert spinning.get_session_options().intra_op_num_threads == 1


def _fixed_batch_copy(tmp_path: Path, batch: int) -> Path:
    model = onnx.load(str(MODELS_DIR / "ppe" / "1" / "model.onnx"))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[0].ClearField("dim_param")
    dims[0].dim_value = batch
    path = tmp_path / "fixed.onnx"
    onnx.save(model, str(path))
    return path


def test_fixed_batch_model_pads_the_last_chunk(tmp_path: Path, detector: OnnxDetector) -> None:
    card = read_card(MODELS_DIR / "ppe" / "1" / "card.json")
    fixed = OnnxDetector(
        _fixed_batch_copy(tmp_path, 2), card.classes, card.input_size, thresholds=card.thresholds
    )
    images = [_image(p.name) for p in FIXTURES[:3]]
    results = fixed.detect_many(images)
    assert len(results) == 3
    for image, result in zip(images, results, strict=True):
        np.testing.assert_allclose(result.boxes, detector.detect(image).boxes, atol=1e-2)


def test_model_whose_outputs_do_not_fit_the_card_is_refused() -> None:
    with pytest.raises(ModelError, match=r"expected 4 \+ 2"):
        OnnxDetector(MODELS_DIR / "ppe" / "1" / "model.onnx", ["head", "helmet"], (320, 320)).detect(
            np.zeros((64, 64, 3), np.uint8)
        )


def test_wrong_sha256_is_refused_at_load(models_copy: Path) -> None:
    card_path = models_copy / "ppe" / "1" / "card.json"
    card = json.loads(card_path.read_text())
    card["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not match the card"):
        ModelRegistry(models_copy).detector("ppe")


def test_corrupt_model_file_is_refused(models_copy: Path) -> None:
    model = models_copy / "ppe" / "1" / "model.onnx"
    model.write_bytes(b"not an onnx model")
    card_path = models_copy / "ppe" / "1" / "card.json"
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_of(model)
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        ModelRegistry(models_copy).detector("ppe")


def test_registry_picks_current_version_and_hot_reloads(models_copy: Path) -> None:
    registry = ModelRegistry(models_copy)
    assert registry.get("ppe").version == 1
    second = models_copy / "ppe" / "2"
    second.mkdir()
    (second / "model.onnx").write_bytes((models_copy / "ppe" / "1" / "model.onnx").read_bytes())
    card = json.loads((models_copy / "ppe" / "1" / "card.json").read_text())
    card["version"] = 2
    (second / "card.json").write_text(json.dumps(card))
    assert registry.get("ppe").version == 1  # not yet re-scanned
    registry.reload()
    assert registry.get("ppe").version == 2
    (models_copy / "ppe" / "current").write_text("1\n")
    registry.reload()
    assert registry.get("ppe").version == 1
    assert registry.get("ppe", 2).version == 2


def test_unknown_model_and_bad_cards_are_reported(models_copy: Path) -> None:
    broken = models_copy / "ppe" / "3"
    broken.mkdir()
    (broken / "card.json").write_text("{not json")
    registry = ModelRegistry(models_copy)
    assert [p.path.name for p in registry.problems] == ["3"]
    with pytest.raises(ModelError, match="no model named 'nope'"):
        registry.get("nope")


@pytest.fixture(scope="module")
def one_at_a_time() -> OnnxDetector:
    return ModelRegistry(MODELS_DIR, options=DetectorOptions(batch_size=1)).detector("ppe", 1)[1]


def test_pipelined_stream_equals_one_by_one_in_order(
    one_at_a_time: OnnxDetector, detector: OnnxDetector
) -> None:
    # Batch 1: every image runs at its own rect shape, exactly as alone; the helper thread only moves the
    # letterboxing and decoding, so the results are identical, in the caller's order.
    paths = FIXTURES * 2
    streamed = list(one_at_a_time.detect_iter(read_image(p, max_pixels=10**8) for p in paths))
    assert len(streamed) == len(paths)
    for path, result in zip(paths, streamed, strict=True):
        alone = detector.detect(read_image(path, max_pixels=10**8))
        np.testing.assert_array_equal(result.class_ids, alone.class_ids, err_msg=path.name)
        np.testing.assert_allclose(result.boxes, alone.boxes, atol=1e-3, err_msg=path.name)
    assert list(one_at_a_time.detect_iter(iter(()))) == []
    assert one_at_a_time.detect_many([]) == []


def test_pipelined_batches_keep_the_callers_order(detector: OnnxDetector) -> None:
    pairs = ModelRegistry(MODELS_DIR, options=DetectorOptions(batch_size=2)).detector("ppe", 1)[1]
    images = [_image(p.name) for p in FIXTURES[:5]]  # three batches: two through the helper thread
    for image, result in zip(images, pairs.detect_many(images), strict=True):
        alone = detector.detect(image)
        np.testing.assert_array_equal(result.class_ids, alone.class_ids)
        np.testing.assert_allclose(result.boxes, alone.boxes, atol=0.5)


def test_a_failing_image_source_ends_the_stream_with_its_error(one_at_a_time: OnnxDetector) -> None:
    def source() -> Iterator[np.ndarray]:
        for path in FIXTURES[:3]:
            yield read_image(path, max_pixels=10**8)
        raise ValueError("fourth photo is corrupt")

    seen = []
    with pytest.raises(ValueError, match="corrupt"):
        for result in one_at_a_time.detect_iter(source()):
            seen.append(result)
    assert 1 <= len(seen) <= 3  # what was finished before the error still reached the caller


def test_a_class_threshold_overrides_the_default_for_that_class_only() -> None:
    card = read_card(MODELS_DIR / "ppe" / "1" / "card.json")
    path = MODELS_DIR / "ppe" / "1" / "model.onnx"
    plain = OnnxDetector(path, card.classes, card.input_size, default_threshold=0.3)
    strict = OnnxDetector(
        path, card.classes, card.input_size, default_threshold=0.3, thresholds={"helmet": 0.99}
    )
    seen = []
    for image_path in FIXTURES:
        image = read_image(image_path, max_pixels=10**8)
        every, fewer = plain.detect(image), strict.detect(image)
        kept = [every.label(i) != "helmet" or float(every.confidences[i]) >= 0.99 for i in range(len(every))]
        assert np.array_equal(fewer.boxes, every.boxes[np.asarray(kept, bool)]), image_path.name
        seen += [every.label(i) for i in range(len(every))]
    assert "helmet" in seen and len(set(seen)) > 1  # helmets were dropped, other classes were kept
