"""Shared helpers for training tests: tiny YOLO datasets written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


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
