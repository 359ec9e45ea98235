"""Which file of a version the registry serves: INT8 by default where the CPU has VNNI / AMX, FP32
elsewhere, either when pinned; an INT8 pin without a variant serves FP32 and logs it once; the INT8
file's sha256 is checked like FP32's and a bad INT8 card is a listed problem, not an outage."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from vision.model_card import (
    CARD_FILE,
    INT8_CARD_FILE,
    INT8_MODEL_FILE,
    MODEL_FILE,
    EvaluationMetrics,
    ModelCard,
    Quantisation,
    TrainingProvenance,
    sha256_of,
    write_card,
)
from vision.onnx_detector import ModelError
from vision.registry import ModelRegistry, PrecisionSetting, choose_precision

CLASSES = ["head", "helmet"]
SIZE = 32
VNNI = frozenset({"avx2", "avx512f", "avx512_vnni"})
AVX2 = frozenset({"avx", "avx2", "fma"})


def _tiny_onnx(path: Path, seed: int) -> Path:
    """A 32x32 image → (1, 4 + classes, 1) "detector": one valid convolution and a reshape."""
    channels = 4 + len(CLASSES)
    weight = np.random.default_rng(seed).normal(size=(channels, 3, SIZE, SIZE)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["images", "w"], ["conv"]),
            helper.make_node("Reshape", ["conv", "shape"], ["output0"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels, 1])],
        [
            numpy_helper.from_array(weight, "w"),
            numpy_helper.from_array(np.array([1, channels, 1], np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _card(
    model: Path, precision: Literal["fp32", "int8"] = "fp32", classes: list[str] = CLASSES
) -> ModelCard:
    return ModelCard(
        name="ppe",
        version=1,
        classes=classes,
        input_size=(SIZE, SIZE),
        sha256=sha256_of(model),
        precision=precision,
        training=TrainingProvenance(dataset="none"),
        licence="test",
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _models(tmp_path: Path, *, int8: bool = True) -> Path:
    version = tmp_path / "models" / "ppe" / "1"
    version.mkdir(parents=True)
    write_card(_card(_tiny_onnx(version / MODEL_FILE, 0)), version / CARD_FILE)
    if int8:
        write_card(_card(_tiny_onnx(version / INT8_MODEL_FILE, 1), "int8"), version / INT8_CARD_FILE)
    return tmp_path / "models"


@pytest.mark.parametrize(
    ("setting", "flags", "served"),
    [
        ("auto", VNNI, "int8"),
        ("auto", frozenset({"avx_vnni"}), "int8"),
        ("auto", frozenset({"amx_int8"}), "int8"),
        ("auto", AVX2, "fp32"),
        ("auto", frozenset(), "fp32"),
        ("fp32", VNNI, "fp32"),
        ("int8", AVX2, "int8"),
    ],
)
def test_the_served_file_follows_the_setting_and_the_cpu(
    tmp_path: Path, setting: PrecisionSetting, flags: frozenset[str], served: str
) -> None:
    models = _models(tmp_path)
    registry = ModelRegistry(models, precision=setting, flags=flags)
    entry, detector = registry.detector("ppe")
    assert entry.precision == served and entry.precisions == ("fp32", "int8")
    expected = INT8_MODEL_FILE if served == "int8" else MODEL_FILE
    assert detector.model_path == models / "ppe" / "1" / expected
    assert entry.served_card.precision == served
    assert entry.card.precision == "fp32" and entry.model_path.name == MODEL_FILE  # the FP32 reference
    assert len(detector.detect(np.zeros((SIZE, SIZE, 3), np.uint8))) >= 0  # the chosen file runs


def test_choose_precision_says_why() -> None:
    assert choose_precision("auto", has_int8=True, flags=VNNI) == ("int8", "auto: the CPU has avx512_vnni")
    precision, why = choose_precision("auto", has_int8=True, flags=AVX2)
    assert precision == "fp32" and "no VNNI/AMX" in why
    assert choose_precision("auto", has_int8=False, flags=VNNI) == ("fp32", "no INT8 variant")
    precision, why = choose_precision("int8", has_int8=False, flags=VNNI)
    assert precision == "fp32" and "no INT8 variant" in why


def test_int8_pinned_without_a_variant_serves_fp32_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = _models(tmp_path, int8=False)
    with caplog.at_level(logging.INFO, logger="vision.registry"):
        registry = ModelRegistry(models, precision="int8", flags=VNNI)
        registry.reload()
        registry.reload()
        entry, detector = registry.detector("ppe")
    assert entry.precision == "fp32" and entry.precisions == ("fp32",)
    assert detector.model_path.name == MODEL_FILE
    said = [r for r in caplog.records if "ppe@1" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert "no INT8 variant" in said[0].getMessage()


def test_the_int8_file_is_checked_against_its_own_card(tmp_path: Path) -> None:
    models = _models(tmp_path)
    _tiny_onnx(models / "ppe" / "1" / INT8_MODEL_FILE, 2)  # replaced after its card was written
    with pytest.raises(ModelError, match="sha256"):
        ModelRegistry(models, precision="int8", flags=AVX2).detector("ppe")
    assert ModelRegistry(models, precision="fp32", flags=VNNI).detector("ppe")[0].precision == "fp32"
    (models / "ppe" / "1" / INT8_MODEL_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        ModelRegistry(models, precision="auto", flags=VNNI).detector("ppe")


@pytest.mark.parametrize("bad", ["not json", "other classes", "fp32 precision", "another fp32"])
def test_a_bad_int8_card_is_a_problem_and_fp32_is_served(tmp_path: Path, bad: str) -> None:
    models = _models(tmp_path)
    version = models / "ppe" / "1"
    int8 = version / INT8_MODEL_FILE
    if bad == "not json":
        (version / INT8_CARD_FILE).write_text("{")
    elif bad == "other classes":
        write_card(_card(int8, "int8", ["head", "vest"]), version / INT8_CARD_FILE)
    elif bad == "fp32 precision":
        write_card(_card(int8, "fp32"), version / INT8_CARD_FILE)
    else:  # quantised from a FP32 file that is not this version's
        stale = Quantisation(
            method="test",
            calibration_images=1,
            calibration_source="test",
            fp32_sha256="0" * 64,
            max_drop=0.01,
            reference=[EvaluationMetrics(dataset="d", split="val", images=1, map50=0.5, map50_95=0.3)],
        )
        card = _card(int8, "int8").model_copy(update={"quantisation": stale})
        write_card(card, version / INT8_CARD_FILE)
    registry = ModelRegistry(models, precision="int8", flags=VNNI)
    assert [p.path.name for p in registry.problems] == [INT8_CARD_FILE]
    entry, detector = registry.detector("ppe")
    assert entry.precision == "fp32" and detector.model_path.name == MODEL_FILE
