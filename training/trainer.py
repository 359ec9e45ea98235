"""Train a YOLO detector with ultralytics from a ``*.yaml`` architecture (no hub weights exist offline).

Fails fast on unusable datasets (before ultralytics spends minutes on them), resumes from ``last.pt``,
and reports progress per epoch with rich.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.offline import auto_device, prepare_ultralytics
from training.yolo_dataset import DatasetError, DatasetReport, load_split


class TrainingDataError(ValueError):
    """The dataset cannot train anything: the message says why."""


@dataclass(frozen=True)
class TrainConfig:
    data: Path
    model: str = "yolo11n.yaml"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 16
    device: str = "auto"
    workers: int = 2
    project: Path = Path("runs/train")
    name: str = "model"
    resume: bool = False
    time_hours: float | None = None  # wall budget; ultralytics then fits the epoch count to it
    seed: int = 0
    threads: int | None = None  # torch intra-op threads (CPU); None = torch default
    patience: int = 50
    cache: bool = False


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    best: Path
    last: Path
    epochs: int
    duration_s: float
    device: str


def preflight(data: Path) -> DatasetReport:
    """Refuse empty or garbage datasets with a clear message; returns the train-split report."""
    try:
        _, report = load_split(data, "train", check_images=True)
        load_split(data, "val", check_images=False)
    except DatasetError as exc:
        raise TrainingDataError(str(exc)) from exc
    if report.usable_images == 0:
        raise TrainingDataError(
            f"{data}: no usable training images ({report.errors} errors, see `dataset check`)"
        )
    if sum(report.boxes_per_class) == 0:
        raise TrainingDataError(f"{data}: training images have no valid boxes; nothing to learn")
    return report


def last_checkpoint(cfg: TrainConfig) -> Path:
    return cfg.project / cfg.name / "weights" / "last.pt"


def train(cfg: TrainConfig, on_epoch: Any = None) -> TrainResult:
    """Run training (or resume it). ``on_epoch(epoch, epochs, metrics)`` is called after each epoch."""
    preflight(cfg.data)
    prepare_ultralytics()
    import torch
    from ultralytics.models import YOLO

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = auto_device(cfg.device)
    start = time.monotonic()
    if cfg.resume:
        ckpt = last_checkpoint(cfg)
        if not ckpt.exists():
            raise TrainingDataError(f"cannot resume: {ckpt} does not exist")
        model = YOLO(str(ckpt))
        kwargs: dict[str, Any] = {"resume": True}
    else:
        model = YOLO(cfg.model)
        kwargs = {
            "data": str(cfg.data),
            "epochs": cfg.epochs,
            "imgsz": cfg.imgsz,
            "batch": cfg.batch,
            "device": device,
            "workers": cfg.workers,
            "project": str(cfg.project.resolve()),
            "name": cfg.name,
            "exist_ok": True,
            "seed": cfg.seed,
            "patience": cfg.patience,
            "cache": "ram" if cfg.cache else False,
            # AMP's self-check downloads yolo11n.pt; CPU has no AMP anyway. Plots need a downloaded font.
            "amp": device != "cpu",
            "plots": False,
            # a *.pt start (e.g. training.warmstart from our own ONNX) transfers its weights
            "pretrained": cfg.model.endswith(".pt"),
        }
        if cfg.time_hours:
            kwargs["time"] = cfg.time_hours
    if on_epoch is not None:
        reported: set[int] = set()

        def _cb(trainer: Any) -> None:
            # ultralytics fires this hook once more for the final best.pt validation: report each epoch once
            epoch = min(int(trainer.epoch) + 1, int(trainer.epochs))
            if epoch not in reported:
                reported.add(epoch)
                on_epoch(epoch, int(trainer.epochs), dict(trainer.metrics or {}))

        model.add_callback("on_fit_epoch_end", _cb)
    model.train(**kwargs)
    trainer = model.trainer
    if trainer is None:
        raise RuntimeError("ultralytics finished training without a trainer object")
    run_dir = Path(trainer.save_dir)
    return TrainResult(
        run_dir,
        run_dir / "weights" / "best.pt",
        run_dir / "weights" / "last.pt",
        int(trainer.epoch) + 1,
        time.monotonic() - start,
        device,
    )
