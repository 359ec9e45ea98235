"""``hazardeye promote`` installs a gated INT8 variant beside the FP32 model (so every new model gets one),
``--no-int8`` skips it, a refused variant leaves FP32 alone, and ``hazardeye quantize`` adds one to an
installed version. Real quantisation of the shipped ``ppe@1`` on the Public Domain fixture photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from train_fixtures import HARDHAT_FIXTURES, shipped_ppe_model, training_app, write_yaml_at
from typer.testing import CliRunner

from vision.model_card import CARD_FILE, INT8_CARD_FILE, INT8_MODEL_FILE, MODEL_FILE, read_card, sha256_of
from vision.registry import ModelRegistry

pytestmark = pytest.mark.slow  # two quantisations of a 2.6 M-parameter model and a dozen evaluations

HELD_OUT = ("004944", "004945", "004947")  # the gate's photos; 004951 is the "training" image


def _data(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    listing = root / "val.txt"
    listing.write_text("".join(f"{HARDHAT_FIXTURES / 'images' / s}.jpg\n" for s in HELD_OUT))
    data: Path = write_yaml_at(
        root / "data.yaml", HARDHAT_FIXTURES, ["head", "helmet", "person"], str(listing), str(listing)
    )
    return data


def _template(path: Path, classes: tuple[str, ...], size: tuple[int, int]) -> Path:
    fields = {
        "classes": list(classes),
        "input_size": list(size),
        "thresholds": {"head": 0.3, "helmet": 0.3},
        "licence": "test",
        "training": {"dataset": "test fixture"},
    }
    path.write_text(json.dumps(fields))
    return path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(training_app(), list(args))
    return result.exit_code, result.output


def test_promotion_installs_a_gated_int8_variant(tmp_path: Path) -> None:
    fp32, classes, size = shipped_ppe_model()
    data = _data(tmp_path / "data")
    calib = tmp_path / "calib"
    calib.mkdir()
    shutil.copy(HARDHAT_FIXTURES / "images" / "004951.jpg", calib)
    template = _template(tmp_path / "template.json", classes, size)
    models = tmp_path / "models"
    common = ["--name", "ppe", "--data", str(data), "--template", str(template), "--models-dir", str(models)]
    # Three photos make a noisy AP: 5 points per class here (the shipped model's gate allows 1).
    code, out = _invoke(
        "promote",
        str(fp32),
        *common,
        "--calib",
        str(calib),
        "--max-drop",
        "0.05",
        "--out",
        str(tmp_path / "r1"),
    )
    assert code == 0, out
    assert "INT8 kept" in out
    version = models / "ppe" / "1"
    fp32_card, int8_card = read_card(version / CARD_FILE), read_card(version / INT8_CARD_FILE)
    assert int8_card.precision == "int8" and int8_card.sha256 == sha256_of(version / INT8_MODEL_FILE)
    assert int8_card.sha256 != fp32_card.sha256 == sha256_of(version / MODEL_FILE)
    assert (int8_card.ref, int8_card.classes, int8_card.thresholds) == (
        fp32_card.ref,
        fp32_card.classes,
        fp32_card.thresholds,
    )
    assert int8_card.promotion == fp32_card.promotion
    q = int8_card.quantisation
    assert q is not None and q.calibration_images == 1 and str(calib) in q.calibration_source
    assert q.fp32_sha256 == fp32_card.sha256 and q.max_drop == 0.05
    assert fp32_card.metrics is not None and int8_card.metrics is not None
    assert q.reference[0].per_class == fp32_card.metrics.per_class  # gated against the FP32 figures
    assert set(int8_card.metrics.per_class) == set(fp32_card.metrics.per_class)
    for name, ref in fp32_card.metrics.per_class.items():
        assert int8_card.metrics.per_class[name].ap50 >= ref.ap50 - 0.05 - 1e-9
    registry = ModelRegistry(models, precision="int8")
    assert registry.detector("ppe")[1].model_path == version / INT8_MODEL_FILE

    # --no-int8 skips it; a black calibration frame saturates every activation and the gate refuses.
    code, out = _invoke("promote", str(fp32), *common, "--no-int8", "--out", str(tmp_path / "r2"))
    assert code == 0, out
    assert not (models / "ppe" / "2" / INT8_CARD_FILE).exists()
    black = tmp_path / "black"
    black.mkdir()
    cv2.imwrite(str(black / "black.png"), np.zeros((size[1], size[0], 3), np.uint8))
    code, out = _invoke("promote", str(fp32), *common, "--calib", str(black), "--out", str(tmp_path / "r3"))
    assert code == 0, out
    assert "INT8 refused" in out
    assert (models / "ppe" / "3" / MODEL_FILE).exists()
    assert not (models / "ppe" / "3" / INT8_MODEL_FILE).exists()
    assert not (models / "ppe" / "3" / INT8_CARD_FILE).exists()
    assert not (tmp_path / "r3" / "int8" / INT8_MODEL_FILE).exists()  # the refused file is deleted


def test_calibration_on_held_out_photos_is_refused(tmp_path: Path) -> None:
    fp32, classes, size = shipped_ppe_model()
    data = _data(tmp_path / "data")  # its train split is the held-out list itself
    models = tmp_path / "models"
    template = _template(tmp_path / "t.json", classes, size)
    args = ["--name", "ppe", "--data", str(data), "--template", str(template), "--models-dir", str(models)]
    # No --calib: promotion falls back on --data's train split, here the held-out photos: INT8 skipped.
    code, out = _invoke("promote", str(fp32), *args, "--out", str(tmp_path / "r"))
    assert code == 0, out
    assert "INT8 variant skipped" in out and "held-out" in out
    version = models / "ppe" / "1"
    assert (version / MODEL_FILE).exists() and not (version / INT8_CARD_FILE).exists()
    # ``quantize`` on the installed version, calibrated on the gate's own photos: refused before any work.
    code, out = _invoke(
        "quantize", str(version), "--calib", str(HARDHAT_FIXTURES / "images"), "--data", str(data)
    )
    assert code == 2 and "held-out" in out
    assert not (version / INT8_CARD_FILE).exists()
