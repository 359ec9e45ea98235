"""Decode on the real shipped model, fixed vs dynamic batch, and models that must be refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.unit.vision.paths import HARDHAT, MODELS_DIR
from vision.images import read_image
from vision.model_card import read_card, sha256_of
from vision.onnx_detector import ModelError, OnnxDetector
from vision.registry import ModelRegistry

FIXTURES = sorted((HARDHAT / "images").glob("*.jpg"))


def _image(name: str) -> np.ndarray:
    return read_image(HARDHAT / "images" / name, max_pixels=10**8)


def _ground_truth(name: str) -> list[int]:
    text = (HARDHAT / "labels" / name).with_suffix(".txt").read_text()
    return [int(line.split()[0]) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    return ModelRegistry(MODELS_DIR).detector("ppe")[1]


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


def test_detect_many_equals_one_by_one(detector: OnnxDetector) -> None:
    images = [_image(p.name) for p in FIXTURES]
    batched = detector.detect_many(images)
    for image, together in zip(images, batched, strict=True):
        alone = detector.detect(image)
        np.testing.assert_allclose(together.boxes, alone.boxes, atol=1e-2)
        np.testing.assert_array_equal(together.class_ids, alone.class_ids)


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
