"""Tiny end-to-end training on CPU, fully offline: train 1 epoch → export ONNX → evaluate through vision's
runtime → JSON report; plus the fail-fast paths (empty / garbage dataset, class mismatch)."""

from __future__ import annotations

import ipaddress
import json
import math
import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from training.export import export_onnx
from training.trainer import TrainConfig, TrainingDataError, train
from vision.images import read_image
from vision.onnx_detector import OnnxDetector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat"
NAMES = ("head", "helmet", "person")
IMGSZ = 64


def _app() -> typer.Typer:
    import training.cli

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    training.cli.register(app)
    return app


def _write_yaml(root: Path, names: tuple[str, ...] = NAMES) -> Path:
    data = root / "data.yaml"
    data.write_text(
        f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n"
        + "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    )
    return data


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """The four Public Domain hardhat fixture photos, copied (ultralytics writes label caches beside them)."""
    root = tmp_path / "tiny"
    for split in ("train", "val"):
        for img in sorted((FIXTURES / "images").glob("*.jpg")):
            (root / "images" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(img, root / "images" / split / img.name)
            shutil.copyfile(
                FIXTURES / "labels" / f"{img.stem}.txt", root / "labels" / split / f"{img.stem}.txt"
            )
    return _write_yaml(root)


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and record) any non-loopback connection: training must not download weights or fonts."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        try:
            loopback = self.family == socket.AF_UNIX or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            attempts.append(str(address))
            raise OSError(f"test is offline: refused connection to {address}")
        return real_connect(self, address)

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        attempts.append(f"dns {args[0]!r}")
        raise OSError("test is offline: no DNS")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    yield attempts


@pytest.mark.slow
def test_train_export_evaluate_on_cpu(
    tiny_dataset: Path, tmp_path: Path, no_internet: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # anything ultralytics might drop into the cwd lands here, visibly
    cfg = TrainConfig(
        tiny_dataset,
        "yolo11n.yaml",
        epochs=1,
        imgsz=IMGSZ,
        batch=4,
        device="cpu",
        workers=0,
        project=tmp_path / "runs",
        name="tiny",
        threads=2,
    )
    seen: list[tuple[int, int]] = []
    result = train(cfg, on_epoch=lambda e, n, _m: seen.append((e, n)))
    assert result.device == "cpu" and result.epochs == 1
    assert seen == [(1, 1)]
    assert result.best.is_file() and result.last.is_file()
    assert not list(tmp_path.glob("*.pt"))  # no hub weights fetched into the cwd
    assert no_internet == []

    onnx_path = export_onnx(result.best, tmp_path / "tiny.onnx", imgsz=IMGSZ)
    detector = OnnxDetector(onnx_path, NAMES, (IMGSZ, IMGSZ))
    photo = read_image(next((FIXTURES / "images").glob("*.jpg")), max_pixels=10_000_000)
    dets = detector.detect(photo)
    assert all(0 <= c < len(NAMES) for c in dets.class_ids)

    out = tmp_path / "eval"
    args = ["evaluate", str(onnx_path), "--data", str(tiny_dataset), "--split", "val"]
    args += ["--classes", ",".join(NAMES), "--imgsz", str(IMGSZ), "--out", str(out)]
    cli = CliRunner().invoke(_app(), args)
    assert cli.exit_code == 0, cli.output
    report = json.loads((out / "report.json").read_text())
    m = report["metrics"]
    assert m["images"] == 4
    for key in ("map50", "map50_95"):
        assert math.isfinite(m[key]) and 0.0 <= m[key] <= 1.0
    assert m["map50_95"] <= m["map50"] + 1e-9
    assert [c["name"] for c in m["per_class"]] == list(NAMES)
    for c in m["per_class"]:
        # AP and recall are undefined (NaN) for a class without ground truth (person in these photos)
        keys = ("ap50", "ap50_95", "recall") if c["ground_truths"] else ()
        assert all(math.isfinite(c[k]) and 0.0 <= c[k] <= 1.0 for k in keys), c
        assert math.isfinite(c["precision"])
    assert sum(c["ground_truths"] for c in m["per_class"]) == 21
    assert Path(report["pr_curve_png"]).is_file() and Path(report["confusion_png"]).is_file()
    assert no_internet == []


def test_empty_dataset_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    (root / "images" / "train").mkdir(parents=True)
    (root / "images" / "val").mkdir(parents=True)
    data = _write_yaml(root)
    with pytest.raises(TrainingDataError, match=r"no images|no usable"):
        train(TrainConfig(data, epochs=1, imgsz=IMGSZ, project=tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()  # refused before ultralytics started a run


def test_garbage_dataset_fails_fast_through_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "garbage"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(3):
            (root / "images" / split / f"g{i}.jpg").write_bytes(b"not a jpeg at all " * (i + 1))
            (root / "labels" / split / f"g{i}.txt").write_text("9 2.0 -1 x y\n")
    data = _write_yaml(root)
    cli = CliRunner().invoke(_app(), ["train", str(data), "--epochs", "1", "--project", str(tmp_path / "r")])
    assert cli.exit_code == 2
    assert "cannot train" in cli.output and "no usable training images" in cli.output
    assert not (tmp_path / "r").exists()


def test_evaluating_a_model_whose_classes_do_not_match_says_so(tiny_dataset: Path, tmp_path: Path) -> None:
    from training.synth.compose import CLASS_NAMES  # a real model's classes that are not the dataset's
    from vision.registry import ModelRegistry

    ppe = ModelRegistry(Path(__file__).resolve().parents[3] / "models").get("ppe", 1)  # 3 classes, 320 px
    args = ["evaluate", str(ppe.model_path), "--data", str(tiny_dataset), "--split", "val"]
    args += ["--classes", ",".join(CLASS_NAMES), "--imgsz", "320", "--out", str(tmp_path / "e")]
    cli = CliRunner().invoke(_app(), args)
    assert cli.exit_code == 2
    assert "do not cover dataset classes" in cli.output
    assert "missing" in cli.output and "head" in cli.output


class _InterruptedError(Exception):
    """Stands in for a killed process: raised from the epoch hook after the checkpoint was saved."""


@pytest.mark.slow
def test_an_interrupted_training_resumes_from_its_last_checkpoint(
    tiny_dataset: Path, tmp_path: Path, no_internet: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(
        tiny_dataset, "yolo11n.yaml", epochs=2, imgsz=IMGSZ, batch=4, device="cpu", workers=0,
        project=tmp_path / "runs", name="interrupted", threads=2,
    )  # fmt: skip

    def stop_after_first_epoch(epoch: int, _epochs: int, _metrics: object) -> None:
        if epoch == 1:
            raise _InterruptedError

    with pytest.raises(_InterruptedError):
        train(cfg, on_epoch=stop_after_first_epoch)
    checkpoint = tmp_path / "runs" / "interrupted" / "weights" / "last.pt"
    assert checkpoint.is_file()

    seen: list[int] = []
    result = train(replace(cfg, resume=True), on_epoch=lambda e, _n, _m: seen.append(e))
    assert seen == [2]  # epoch 1 is not trained again
    assert result.epochs == 2 and result.last.is_file()
    assert no_internet == []


def test_resuming_without_a_checkpoint_says_so(tiny_dataset: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(
        tiny_dataset, epochs=1, imgsz=IMGSZ, project=tmp_path / "runs", name="never", resume=True
    )
    with pytest.raises(TrainingDataError, match="cannot resume"):
        train(cfg)


def test_a_corrupt_checkpoint_is_refused_by_export(tmp_path: Path) -> None:
    corrupt = tmp_path / "last.pt"
    corrupt.write_bytes(b"PK\x03\x04 not a checkpoint")
    cli = CliRunner().invoke(
        _app(), ["export", str(corrupt), "--out", str(tmp_path / "m.onnx"), "--imgsz", "64"]
    )
    assert cli.exit_code == 2
    said = " ".join(cli.output.split())  # rich wraps long lines
    assert "not a loadable checkpoint" in said and not (tmp_path / "m.onnx").exists()


def test_a_model_whose_classes_do_not_match_is_never_half_promoted(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    from training.synth.compose import CLASS_NAMES
    from vision.registry import ModelRegistry

    ppe = ModelRegistry(Path(__file__).resolve().parents[3] / "models").get("ppe", 1)  # 3 classes, 320 px
    models = tmp_path / "models"
    args = ["promote", str(ppe.model_path), "--name", "ppe", "--data", str(tiny_dataset), "--split", "val"]
    args += ["--classes", ",".join(CLASS_NAMES), "--imgsz", "320", "--models-dir", str(models)]
    cli = CliRunner().invoke(_app(), [*args, "--out", str(tmp_path / "p")])
    assert cli.exit_code == 2
    said = " ".join(cli.output.split())
    assert "cannot promote" in said and "do not cover dataset classes" in said
    assert not models.exists()  # nothing installed, no current pointer
