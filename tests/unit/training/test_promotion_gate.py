"""Promotion gate through ``hazardeye promote`` with real ONNX models evaluated by vision's runtime:
worse refused, equal/better accepted, --force needs and records a reason, versions increment, and a
registry built before the promotions sees each new version after ``reload()``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from train_fixtures import hardhat_fixture_yaml, shipped_ppe_model, training_app
from typer.testing import CliRunner

from training.metrics import EvaluationMetrics
from training.promote import gate
from vision.model_card import read_card
from vision.registry import ModelRegistry

pytestmark = pytest.mark.slow  # each promotion evaluates two detectors on four photos


def _degraded(src: Path, dst: Path) -> Path:
    """The same detector with noise in its backbone weights: a genuinely worse model (mAP50 ≈ 0.15)."""
    model = onnx.load(str(src))
    rng = np.random.default_rng(0)
    for init in model.graph.initializer:
        if init.name.endswith("conv.weight") and not init.name.startswith("model.23"):
            w = numpy_helper.to_array(init)
            noisy = w + rng.normal(0, 0.3 * float(w.std()), w.shape).astype(w.dtype)
            init.CopyFrom(numpy_helper.from_array(noisy, init.name))
    onnx.save(model, str(dst))
    return dst


def _promote(model: Path, data: Path, models: Path, template: Path, *extra: str) -> tuple[int, str]:
    args = ["promote", str(model), "--name", "ppe", "--data", str(data), "--split", "val"]
    args += ["--template", str(template), "--models-dir", str(models), "--out", str(models.parent / "runs")]
    result = CliRunner().invoke(training_app(), [*args, *extra])
    return result.exit_code, result.output


def test_promotion_lifecycle(tmp_path: Path) -> None:
    good, classes, size = shipped_ppe_model()
    worse = _degraded(good, tmp_path / "worse.onnx")
    data = hardhat_fixture_yaml(tmp_path / "data")
    template = tmp_path / "template.json"
    template.write_text(
        json.dumps(
            {
                "classes": list(classes),
                "input_size": list(size),
                "thresholds": {"head": 0.3, "helmet": 0.3},
                "licence": "test",
                "training": {"dataset": "test fixture"},
            }
        )
    )
    models = tmp_path / "models"
    registry = ModelRegistry(models)  # the "running service": built once, reloaded after each promotion
    assert registry.names() == []

    code, out = _promote(good, data, models, template)
    assert code == 0, out
    assert "first version" in out
    registry.reload()
    v1 = registry.get("ppe")
    assert (v1.version, v1.current) == (1, True)
    good_map50 = v1.card.metrics.map50 if v1.card.metrics else -1.0
    assert good_map50 > 0.5

    code, out = _promote(worse, data, models, template)
    assert code == 1
    assert "refused" in out
    registry.reload()
    assert [e.version for e in registry.entries()] == [1]

    code, out = _promote(good, data, models, template)  # equal is not worse
    assert code == 0, out
    registry.reload()
    v2 = registry.get("ppe")
    assert v2.version == 2 and v2.card.promotion is not None
    assert v2.card.promotion.previous_version == 1 and not v2.card.promotion.forced
    assert registry.detector("ppe")[0].version == 2  # sha256 matches; the detector loads

    code, out = _promote(worse, data, models, template, "--force")
    assert code != 0 and "reason" in out
    registry.reload()
    assert registry.get("ppe").version == 2

    why = "field trial of the noisy model on line 3"
    code, out = _promote(worse, data, models, template, "--force", "--reason", why)
    assert code == 0, out
    registry.reload()
    v3 = registry.get("ppe")
    assert v3.version == 3 and v3.card.promotion is not None
    assert v3.card.promotion.forced and v3.card.promotion.reason == why
    assert v3.card.metrics is not None and v3.card.metrics.map50 < good_map50
    assert (models / "ppe" / "current").read_text().strip() == "3"

    code, out = _promote(good, data, models, template)  # better than the forced current one
    assert code == 0, out
    registry.reload()
    assert registry.get("ppe").version == 4
    assert [e.version for e in registry.entries()] == [1, 2, 3, 4]
    assert read_card(models / "ppe" / "1" / "card.json").version == 1  # old versions untouched


def _metrics(map50: float, map50_95: float) -> EvaluationMetrics:
    return EvaluationMetrics(
        images=1, map50=map50, map50_95=map50_95, per_class=(), pr_curves=(), confusion=((0,),)
    )


@pytest.mark.parametrize(
    ("cand", "cur", "tolerance", "accepted"),
    [
        ((0.50, 0.30), (0.50, 0.30), 0.0, True),
        ((0.51, 0.31), (0.50, 0.30), 0.0, True),
        ((0.49, 0.30), (0.50, 0.30), 0.0, False),
        ((0.50, 0.29), (0.50, 0.30), 0.0, False),
        ((0.49, 0.29), (0.50, 0.30), 0.02, True),
    ],
)
def test_gate_rule(
    cand: tuple[float, float], cur: tuple[float, float], tolerance: float, accepted: bool
) -> None:
    decision = gate(_metrics(*cand), _metrics(*cur), tolerance=tolerance)
    assert decision.accepted is accepted and not decision.forced
