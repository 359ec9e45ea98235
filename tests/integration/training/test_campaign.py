"""A training campaign survives sittings and machines: real ultralytics training (tiny, 64 px, CPU).

Each sitting runs on a "fresh machine": its scratch folder (built dataset, ultralytics runs) is deleted
first, so only the state in the repository carries the campaign forward.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.unit.training.train_fixtures import HARDHAT_FIXTURES, REPO
from training.campaign import CampaignError, load_progress, load_spec, run_sitting

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]  # 3 real trainings


def _shared(tmp_path: Path) -> Path:
    """A shared-datasets folder shaped like ../shared/datasets, from the Public Domain fixtures."""
    root = tmp_path / "shared"
    for name, split in (("hardhat", "train"), ("hardhat", "valid"), ("css", "train")):
        for kind in ("images", "labels"):
            shutil.copytree(HARDHAT_FIXTURES / kind, root / name / split / kind)
    return root


def _spec(tmp_path: Path, stages: list[dict[str, int]]) -> Path:
    spec = {
        "name": "tiny",
        "model_name": "ppe",
        "arch": "yolo11n.yaml",
        "classes": ["head", "helmet", "person", "vest"],
        "warm_start": {
            "onnx": str(REPO / "models/ppe/1/model.onnx"),
            "classes": ["head", "helmet", "person"],
            "imgsz": 320,
        },
        "state_dir": "state",
        "sources": [
            {"root": "hardhat", "split": "train", "prefix": "hh", "names": ["head", "helmet", "person"]},
            {"root": "css", "split": "train", "prefix": "css", "names": ["head", "helmet", "person", "vest"]},
        ],
        "val": [{"root": "hardhat", "split": "valid", "prefix": "hh", "names": ["head", "helmet", "person"]}],
        "camera_look_share": 0.5,
        "hyp": {"optimizer": "SGD", "lr0": 0.001, "warmup_epochs": 0.0, "mosaic": 0.0},
        "stages": stages,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _optimizer_of(checkpoint: Path) -> object:
    import torch

    return torch.load(checkpoint, map_location="cpu", weights_only=False).get("optimizer")


def _sitting(tmp_path: Path, spec_path: Path, shared: Path, hours: float) -> None:
    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)  # a fresh machine: nothing but the repository
    # workers=0: forking loader workers from a pytest process full of threads (moto, pools) can deadlock
    run_sitting(
        load_spec(str(spec_path)), repo=tmp_path / "repo", shared=shared, work=work, hours=hours, workers=0
    )


def test_sittings_resume_mid_stage_and_cross_stage_boundaries_on_fresh_machines(tmp_path: Path) -> None:
    stages = [{"imgsz": 64, "epochs": 2, "batch": 4}, {"imgsz": 96, "epochs": 1, "batch": 4}]
    spec_path = _spec(tmp_path, stages)
    shared = _shared(tmp_path)
    spec = load_spec(str(spec_path))
    repo = tmp_path / "repo"

    _sitting(tmp_path, spec_path, shared, hours=1e-6)  # budget gone after one epoch: stops mid-stage
    first = load_progress(spec, repo)
    assert (first.stage, first.stage_epochs_done, first.epochs_total, len(first.sittings)) == (0, 1, 1, 1)
    assert _optimizer_of(repo / "state" / "last.pt") is not None  # mid-stage: resumable exactly
    assert (repo / "state" / "last.pt").stat().st_size < 25_000_000  # small enough for the repository

    _sitting(tmp_path, spec_path, shared, hours=1.0)  # resumes epoch 2 of stage 0, then stops: stage done
    second = load_progress(spec, repo)
    assert (second.stage, second.stage_epochs_done, second.epochs_total) == (1, 0, 2)
    assert [s.epochs for s in second.sittings] == [1, 1] and second.hours_total > 0
    assert _optimizer_of(repo / "state" / "last.pt") is None  # a finished stage keeps its weights only

    _sitting(tmp_path, spec_path, shared, hours=1.0)  # stage 1 starts from stage 0's weights
    third = load_progress(spec, repo)
    assert third.finished(spec) and third.epochs_total == 3
    assert [(s.stage, s.imgsz) for s in third.sittings] == [(0, 64), (0, 64), (1, 96)]

    import torch

    ckpt = torch.load(repo / "state" / "last.pt", weights_only=False)
    assert ckpt["model"].names == {0: "head", 1: "helmet", 2: "person", 3: "vest"}  # vest added to ppe@1's
    with pytest.raises(CampaignError, match="finished"):
        _sitting(tmp_path, spec_path, shared, hours=1.0)


def test_a_corrupt_or_foreign_checkpoint_is_refused_before_training(tmp_path: Path) -> None:
    spec_path = _spec(tmp_path, [{"imgsz": 64, "epochs": 2, "batch": 4}])
    shared = _shared(tmp_path)
    state = tmp_path / "repo" / "state"
    state.mkdir(parents=True)
    (state / "progress.json").write_text(json.dumps({"campaign": "tiny", "stage_epochs_done": 1}))
    (state / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CampaignError, match="not a loadable checkpoint"):
        _sitting(tmp_path, spec_path, shared, hours=1.0)
    import torch
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel("yolo11n.yaml", nc=2, verbose=False)
    model.names = {0: "cat", 1: "dog"}
    torch.save({"ema": model, "model": None}, state / "last.pt")
    with pytest.raises(CampaignError, match="campaign trains"):
        _sitting(tmp_path, spec_path, shared, hours=1.0)


def test_damaged_or_foreign_state_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    spec = load_spec(str(_spec(tmp_path, [{"imgsz": 64, "epochs": 1, "batch": 4}])))
    state = tmp_path / "repo" / "state"
    state.mkdir(parents=True)
    (state / "progress.json").write_text("{not json")
    with pytest.raises(CampaignError, match="damaged"):
        load_progress(spec, tmp_path / "repo")
    (state / "progress.json").write_text(json.dumps({"campaign": "other"}))
    with pytest.raises(CampaignError, match="belongs to campaign 'other'"):
        load_progress(spec, tmp_path / "repo")
    (state / "progress.json").write_text(json.dumps({"campaign": "tiny", "stage_epochs_done": 1}))
    with pytest.raises(CampaignError, match="checkpoint is missing"):
        load_progress(spec, tmp_path / "repo")


def test_unknown_campaigns_and_missing_data_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="known: ppe2"):
        load_spec("nope")
    spec = load_spec(str(_spec(tmp_path, [{"imgsz": 64, "epochs": 1, "batch": 4}])))
    with pytest.raises(CampaignError, match="is --shared right"):
        run_sitting(spec, repo=tmp_path / "repo", shared=tmp_path / "missing", work=tmp_path / "w", hours=1)


def test_the_shipped_campaign_spec_is_valid() -> None:
    spec = load_spec("ppe2")
    assert spec.classes == ["head", "helmet", "person", "vest"]
    assert [s.imgsz for s in spec.stages] == sorted(s.imgsz for s in spec.stages)  # progressive size
    assert spec.stages[-1].imgsz >= 640
