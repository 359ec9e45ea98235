"""A training campaign: a staged schedule that survives sittings, machines and interruptions.

A 2-core CPU trains YOLO at camera input sizes at tens of minutes per epoch, so a model worth shipping
takes many sittings. The campaign's spec (``training/campaigns/<name>.yaml``) names the data, the warm
start and the stages; its state (``progress.json`` + the latest ultralytics checkpoint with its optimizer)
lives in the repository, so a fresh machine continues exactly where the last sitting stopped: mid-stage by
ultralytics' own resume, or at a stage boundary by starting the next stage from the finished weights.
The checkpoint is copied into the state after every epoch, so an interrupted sitting loses at most the
epoch it was in.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from training.camera_look import apply_look, draw_look
from training.merge import MergeSource, merge
from training.yolo_dataset import load_split

CAMPAIGNS_DIR = Path(__file__).parent / "campaigns"
STATE_CHECKPOINT = "last.pt"
STATE_PROGRESS = "progress.json"


class CampaignError(ValueError):
    """The campaign cannot run: the message says why (bad spec, missing data, damaged state)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    root: str  # folder under the shared datasets directory
    split: str  # its sub-folder: <root>/<split>/{images,labels}
    prefix: str
    names: list[str]


class StageSpec(_Strict):
    imgsz: int = Field(ge=64)
    epochs: int = Field(ge=1)
    batch: int = Field(ge=1)


class WarmStartSpec(_Strict):
    onnx: Path
    classes: list[str]
    imgsz: int


class CampaignSpec(_Strict):
    name: str
    model_name: str
    arch: str
    classes: list[str]
    warm_start: WarmStartSpec | None = None
    state_dir: Path
    sources: list[SourceSpec]
    val: list[SourceSpec]
    camera_look_share: float = Field(default=0.0, ge=0.0, le=1.0)
    hyp: dict[str, float | str] = Field(default_factory=dict)
    stages: list[StageSpec] = Field(min_length=1)

    def data_fingerprint(self) -> str:
        """Changes whenever the built dataset would differ (sources, classes, degradation share)."""
        key = json.dumps(
            [s.model_dump() for s in self.sources + self.val] + [self.classes, self.camera_look_share]
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]


class SittingRecord(_Strict):
    started: str
    stage: int
    imgsz: int
    epochs: int
    hours: float


class CampaignProgress(_Strict):
    campaign: str
    stage: int = 0  # index of the stage in progress (== len(stages) when finished)
    stage_epochs_done: int = 0
    epochs_total: int = 0
    hours_total: float = 0.0
    sittings: list[SittingRecord] = Field(default_factory=list)

    def finished(self, spec: CampaignSpec) -> bool:
        return self.stage >= len(spec.stages)


def load_spec(name_or_path: str) -> CampaignSpec:
    path = Path(name_or_path)
    if not path.suffix:
        path = CAMPAIGNS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CAMPAIGNS_DIR.glob("*.yaml")))
        raise CampaignError(f"no campaign {name_or_path!r} (known: {known})")
    try:
        return CampaignSpec.model_validate(yaml.safe_load(path.read_text()))
    except ValueError as exc:
        raise CampaignError(f"{path}: {exc}") from exc


def load_progress(spec: CampaignSpec, repo: Path) -> CampaignProgress:
    path = repo / spec.state_dir / STATE_PROGRESS
    if not path.exists():
        return CampaignProgress(campaign=spec.name)
    try:
        progress = CampaignProgress.model_validate_json(path.read_text())
    except ValueError as exc:
        raise CampaignError(f"{path} is damaged: {exc}") from exc
    if progress.campaign != spec.name:
        raise CampaignError(f"{path} belongs to campaign {progress.campaign!r}, not {spec.name!r}")
    if progress.stage_epochs_done and not (repo / spec.state_dir / STATE_CHECKPOINT).exists():
        raise CampaignError(f"{path} says stage {progress.stage} is under way but its checkpoint is missing")
    return progress


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    write(tmp)
    tmp.replace(target)


def save_progress(spec: CampaignSpec, repo: Path, progress: CampaignProgress) -> None:
    _write_atomic(
        repo / spec.state_dir / STATE_PROGRESS,
        lambda p: p.write_text(progress.model_dump_json(indent=2) + "\n"),
    )


def _source_yaml(src: SourceSpec, shared: Path, work: Path) -> Path:
    root = shared / src.root
    if not (root / src.split / "images").is_dir():
        raise CampaignError(f"{root / src.split / 'images'} does not exist: is --shared right?")
    path = work / "sources" / f"{src.prefix}_{src.split}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(src.names))
    path.write_text(f"path: {root.resolve()}\n{src.split}: {src.split}/images\nnames:\n{names}\n")
    return path


def _merge_split(spec: CampaignSpec, sources: list[SourceSpec], shared: Path, out: Path, split: str) -> None:
    merged = []
    for src in sources:
        ds, _ = load_split(_source_yaml(src, shared, out.parent), src.split, check_images=False)
        merged.append(MergeSource(ds, src.prefix, {}))
    result = merge(merged, out, split, spec.classes)
    if result.images == 0:
        raise CampaignError(f"campaign {spec.name}: split {split} has no images")


def degrade_share(image_dir: Path, share: float, seed: int = 0) -> int:
    """Give ``share`` of the images a CCTV look, chosen by file name so a rebuild picks the same ones."""
    import cv2

    done = 0
    for path in sorted(image_dir.iterdir()):
        digest = int(hashlib.sha256(f"{seed}:{path.name}".encode()).hexdigest()[:8], 16)
        if digest / 0xFFFFFFFF >= share:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        rng = np.random.default_rng(digest)
        look = apply_look(np.asarray(image, np.uint8), draw_look(rng), rng)
        cv2.imwrite(str(path), look, [cv2.IMWRITE_JPEG_QUALITY, 95])
        done += 1
    return done


def build_dataset(spec: CampaignSpec, shared: Path, work: Path) -> Path:
    """The merged, degraded training set under ``work/data`` (rebuilt only when the spec's data changed)."""
    data = work / "data"
    marker = data / f".built-{spec.data_fingerprint()}"
    if marker.exists():
        return data / "data.yaml"
    shutil.rmtree(data, ignore_errors=True)
    _merge_split(spec, spec.sources, shared, data, "train")
    _merge_split(spec, spec.val, shared, data, "val")
    degrade_share(data / "images" / "train", spec.camera_look_share)
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(spec.classes))
    (data / "data.yaml").write_text(
        f"path: {data.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n"
    )
    marker.write_text(datetime.now(UTC).isoformat())
    return data / "data.yaml"


def _warm_start_checkpoint(spec: CampaignSpec, repo: Path, work: Path, data_yaml: Path) -> Path:
    from training.warmstart import warmstart_from_onnx
    from vision.images import read_image

    ws = spec.warm_start
    if ws is None:
        return Path(spec.arch)
    images = [
        read_image(p, max_pixels=50_000_000)
        for p in sorted((data_yaml.parent / "images/train").iterdir())[:64]
    ]
    out = work / "warmstart.pt"
    warmstart_from_onnx(repo / ws.onnx, out, images, tuple(ws.classes), spec.arch, ws.imgsz)
    return out


def check_checkpoint(path: Path, classes: list[str]) -> None:
    """Refuse a checkpoint that does not load or that detects other classes than the campaign's."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        model = ckpt.get("ema") or ckpt.get("model")
        names = getattr(model, "names", None)
    except Exception as exc:  # torch raises pickle, zip and runtime errors alike
        raise CampaignError(f"{path} is not a loadable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(names, dict):
        raise CampaignError(f"{path} holds no detection model")
    if [names[i] for i in sorted(names)] != classes:
        raise CampaignError(f"{path} detects {list(names.values())}, the campaign trains {classes}")


def _keep(checkpoint: Path, target: Path, *, weights_only: bool) -> None:
    """Copy the checkpoint into the state; at a stage's end without the optimizer (the next stage starts
    a fresh schedule from the weights), which halves what the repository carries."""
    shutil.copyfile(checkpoint, target)
    if weights_only:
        from ultralytics.utils.torch_utils import strip_optimizer

        strip_optimizer(str(target))


class SittingResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    progress: CampaignProgress
    epochs: int
    hours: float
    checkpoint: Path
    stage_finished: bool


def run_sitting(
    spec: CampaignSpec,
    *,
    repo: Path,
    shared: Path,
    work: Path,
    hours: float,
    device: str = "cpu",
    workers: int = 2,
    on_epoch: Callable[[CampaignProgress], None] | None = None,
) -> SittingResult:
    """Train for about ``hours`` (whole epochs; stops after the epoch that would overrun) and save state."""
    from training.offline import prepare_ultralytics

    progress = load_progress(spec, repo)
    if progress.finished(spec):
        raise CampaignError(f"campaign {spec.name} is finished ({progress.epochs_total} epochs)")
    data_yaml = build_dataset(spec, shared, work)
    prepare_ultralytics()
    from ultralytics.models import YOLO

    stage = spec.stages[progress.stage]
    state_ckpt = repo / spec.state_dir / STATE_CHECKPOINT
    run_dir = work / "runs" / f"stage{progress.stage}"
    common: dict[str, Any] = {
        "data": str(data_yaml),
        "device": device,
        "workers": workers,
        "save_dir": str(run_dir),
    }
    if progress.stage_epochs_done or progress.stage:
        check_checkpoint(state_ckpt, spec.classes)
    if progress.stage_epochs_done:
        (run_dir / "weights").mkdir(parents=True, exist_ok=True)
        resume_from = run_dir / "weights" / STATE_CHECKPOINT
        shutil.copyfile(state_ckpt, resume_from)
        model = YOLO(str(resume_from))
        kwargs = {**common, "resume": True}
    else:
        start = state_ckpt if progress.stage else _warm_start_checkpoint(spec, repo, work, data_yaml)
        model = YOLO(str(start))
        shutil.rmtree(run_dir, ignore_errors=True)
        kwargs = {
            **common,
            **spec.hyp,
            "epochs": stage.epochs,
            "imgsz": stage.imgsz,
            "batch": stage.batch,
            "pretrained": True,
            "val": False,  # held-out evaluation is `hazardeye evaluate`'s job; saves minutes per epoch
            "plots": False,
            "amp": device != "cpu",
            "seed": 0,
            "patience": stage.epochs + 1,
            "exist_ok": True,
        }
    started = datetime.now(UTC).isoformat()
    t0 = last = time.monotonic()
    epochs_here = 0
    current = progress

    def _saved(trainer: Any) -> None:
        nonlocal last, epochs_here, current
        now = time.monotonic()
        p = current
        done = int(trainer.epoch) + 1
        finished = done >= stage.epochs
        _write_atomic(state_ckpt, lambda path: _keep(Path(trainer.last), path, weights_only=finished))
        epochs_here += 1
        record = SittingRecord(
            started=started,
            stage=progress.stage,
            imgsz=stage.imgsz,
            epochs=epochs_here,
            hours=(now - t0) / 3600,
        )
        p = p.model_copy(
            update={
                "stage": p.stage + 1 if finished else p.stage,
                "stage_epochs_done": 0 if finished else done,
                "epochs_total": p.epochs_total + 1,
                "hours_total": p.hours_total + (now - last) / 3600,
                "sittings": [*progress.sittings, record],
            }
        )
        current = p
        save_progress(spec, repo, p)
        if on_epoch is not None:
            on_epoch(p)
        per_epoch = (now - t0) / epochs_here
        if now - t0 + per_epoch > hours * 3600:
            trainer.stop = True  # the next epoch would overrun the sitting: stop with the state saved
        last = now

    def _loader_workers(trainer: Any) -> None:
        # On CPU ultralytics forces 0 loader workers (augmentation and compute then take turns) and one
        # torch thread less than the cores (1 of 2 here): the machine would sit half idle.
        trainer.args.workers = workers
        if device == "cpu":
            import torch

            torch.set_num_threads(os.cpu_count() or 1)

    model.add_callback("on_pretrain_routine_start", _loader_workers)
    model.add_callback("on_model_save", _saved)
    model.train(**kwargs)
    final = current
    return SittingResult(
        progress=final,
        epochs=epochs_here,
        hours=(time.monotonic() - t0) / 3600,
        checkpoint=state_ckpt,
        stage_finished=final.stage > progress.stage,
    )
