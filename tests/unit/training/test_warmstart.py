"""Warm start from our own ONNX model: the rebuilt ultralytics checkpoint computes the same function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from train_fixtures import HARDHAT_FIXTURES, shipped_ppe_model, training_app
from typer.testing import CliRunner

from training.warmstart import warmstart_from_onnx
from vision.images import read_image

pytestmark = pytest.mark.slow  # builds a torch model and runs it on four photos


def _photos() -> list[np.ndarray]:
    return [read_image(p, max_pixels=10_000_000) for p in sorted((HARDHAT_FIXTURES / "images").glob("*.jpg"))]


def test_rebuilt_checkpoint_matches_onnx_and_loads_in_ultralytics(tmp_path: Path) -> None:
    model, classes, size = shipped_ppe_model()
    out = tmp_path / "ws.pt"
    result = warmstart_from_onnx(model, out, _photos(), ("leak", "stain", "corrosion"), imgsz=size[0])
    assert result.checkpoint == out and out.is_file()
    assert result.tensors_loaded > 150
    assert result.max_abs_diff < 0.05  # raw outputs are box pixels up to 320 and scores in [0, 1]

    from ultralytics.models import YOLO

    yolo = YOLO(str(out))
    assert yolo.names == {0: "leak", 1: "stain", 2: "corrosion"}
    assert len(classes) == 3


def test_class_count_must_match_and_calibration_is_required(tmp_path: Path) -> None:
    model, _, _ = shipped_ppe_model()
    with pytest.raises(ValueError, match="calibration"):
        warmstart_from_onnx(model, tmp_path / "a.pt", [], ("a", "b", "c"))
    with pytest.raises(ValueError, match="no matching folded weights"):
        warmstart_from_onnx(model, tmp_path / "b.pt", _photos()[:1], ("only", "two"))
    assert not list(tmp_path.glob("*.pt"))


def test_cli_reports_the_transfer(tmp_path: Path) -> None:
    model, _, _ = shipped_ppe_model()
    out = tmp_path / "cli.pt"
    args = ["warmstart", str(model), "--out", str(out), "--calib", str(HARDHAT_FIXTURES / "images")]
    result = CliRunner().invoke(training_app(), [*args, "--classes", "leak,stain,corrosion"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "tensors" in result.output
