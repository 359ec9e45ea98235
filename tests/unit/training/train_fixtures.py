"""Shared helpers for training tests: tiny YOLO datasets written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import typer


def write_image(path: Path, seed: int, size: int = 64) -> Path:
    """A small distinct PNG (distinct bytes per seed, so duplicate detection is not triggered)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    cv2.imwrite(str(path), img)
    return path


def write_label(images_path: Path, lines: list[str]) -> Path:
    label = Path(str(images_path.parent).replace("/images", "/labels")) / f"{images_path.stem}.txt"
    label.parent.mkdir(parents=True, exist_ok=True)
    label.write_text("".join(line + "\n" for line in lines))
    return label


def write_yaml(root: Path, names: list[str], train: str = "images/train", val: str = "images/val") -> Path:
    data = root / "data.yaml"
    data.write_text(
        f"path: {root}\ntrain: {train}\nval: {val}\nnames:\n"
        + "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    )
    return data


def training_app() -> typer.Typer:
    """The training command group on its own app (what ``hazardeye`` registers as a plugin)."""
    import training.cli

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    training.cli.register(app)
    return app


REPO = Path(__file__).resolve().parents[3]
HARDHAT_FIXTURES = REPO / "tests" / "fixtures" / "hardhat"


def hardhat_fixture_yaml(root: Path) -> Path:
    """data.yaml over the four Public Domain hardhat fixture images (train = val: evaluation only)."""
    root.mkdir(parents=True, exist_ok=True)
    return write_yaml_at(
        root / "hardhat.yaml", HARDHAT_FIXTURES, ["head", "helmet", "person"], "images", "images"
    )


def write_yaml_at(data: Path, root: Path, names: list[str], train: str, val: str) -> Path:
    data.write_text(
        f"path: {root}\ntrain: {train}\nval: {val}\nnames:\n"
        + "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    )
    return data


def shipped_ppe_model(version: int | None = 1) -> tuple[Path, tuple[str, ...], tuple[int, int]]:
    """A shipped PPE model (a real trained detector): path, classes, input size. Version 1 by default
    (3 classes, 320 px): the training tests pin their expectations on it; None: the current one."""
    from vision.registry import ModelRegistry

    entry = ModelRegistry(REPO / "models").get("ppe", version)
    return entry.model_path, tuple(entry.card.classes), entry.card.input_size
