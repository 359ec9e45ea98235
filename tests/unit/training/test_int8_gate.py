"""The INT8 gate's decision from hand-written per-class AP50: every class the gate set labels must stay
within ``max_drop`` (one AP50 point) of FP32, or the INT8 file is refused as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.export import calibration_images, decide_int8, gated_int8, spread

FP32 = {"head": 0.85, "helmet": 0.84, "person": 0.002}


def test_an_exact_one_point_drop_is_kept() -> None:
    # 0.85 - 0.84 is 0.010000000000000009 in floats: "exactly 0.01" must still pass.
    decision = decide_int8(FP32, {"head": 0.84, "helmet": 0.83, "person": 0.002})
    assert decision.kept and decision.refused_classes == ()
    assert "INT8 kept" in decision.message


def test_a_drop_of_0_0101_is_refused() -> None:
    decision = decide_int8(FP32, {"head": 0.8399, "helmet": 0.84, "person": 0.002})
    assert not decision.kept
    assert decision.refused_classes == ("head",)
    assert "head" in decision.message and "refused" in decision.message


def test_one_failing_class_refuses_all_even_when_the_mean_improves() -> None:
    # mAP50 rises (0.564 → 0.597) while head loses two points: the old overall gate would have kept it.
    int8 = {"head": 0.83, "helmet": 0.96, "person": 0.002}
    assert sum(int8.values()) > sum(FP32.values())
    decision = decide_int8(FP32, int8)
    assert not decision.kept and decision.refused_classes == ("head",)


def test_gains_pass_and_each_class_is_reported() -> None:
    decision = decide_int8(FP32, {"head": 0.86, "helmet": 0.845, "person": 0.003})
    assert decision.kept
    assert [(c.name, round(c.drop, 4)) for c in decision.checks] == [
        ("head", -0.01),
        ("helmet", -0.005),
        ("person", -0.001),
    ]


def test_only_classes_the_gate_set_labels_are_checked() -> None:
    # vest is not labelled by the gate set (no FP32 figure): whatever INT8 does there is not gated.
    decision = decide_int8({"head": 0.8}, {"head": 0.8, "vest": 0.0})
    assert decision.kept and [c.name for c in decision.checks] == ["head"]


def test_a_class_int8_lost_entirely_counts_as_zero() -> None:
    decision = decide_int8({"head": 0.8, "helmet": 0.05}, {"head": 0.8})
    assert not decision.kept and decision.refused_classes == ("helmet",)


def test_nothing_to_gate_on_is_refused() -> None:
    decision = decide_int8({}, {"head": 0.9})
    assert not decision.kept and "no class" in decision.message


def test_max_drop_is_configurable_and_not_negative() -> None:
    assert decide_int8(FP32, {**FP32, "head": 0.80}, max_drop=0.05).kept
    with pytest.raises(ValueError, match="max_drop"):
        decide_int8(FP32, FP32, max_drop=-0.01)


def test_a_refused_file_is_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_quantise(_fp32: Path, out: Path, _calibration: object, *, imgsz: int | None = None) -> Path:
        out.write_bytes(b"int8")
        return out

    monkeypatch.setattr("training.export.quantize_int8", fake_quantise)
    fp32 = tmp_path / "model.onnx"
    refused = gated_int8(fp32, tmp_path / "bad.onnx", [fp32], lambda _p: {"head": 0.70}, fp32_ap50=FP32)
    assert not refused.kept and not refused.path.exists() and "removed" in refused.message
    kept = gated_int8(fp32, tmp_path / "good.onnx", [fp32], lambda p: FP32 if p == fp32 else dict(FP32))
    assert kept.kept and kept.path.read_bytes() == b"int8"


def test_calibration_images_are_spread_over_each_directory(tmp_path: Path) -> None:
    files = [tmp_path / f"{i:03d}.png" for i in range(10)]
    assert spread(files, 4) == [files[0], files[3], files[6], files[9]]
    assert spread(files, 1) == [files[0]] and spread(files[:2], 5) == files[:2]
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        for i in range(6):
            (tmp_path / sub / f"{i}.jpg").write_bytes(b"x")
    chosen = calibration_images([tmp_path / "a", tmp_path / "b"], 5)
    assert [p.parent.name for p in chosen] == ["a", "a", "a", "b", "b"]
    with pytest.raises(ValueError):
        calibration_images([], 5)
