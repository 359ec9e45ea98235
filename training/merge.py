"""Merge YOLO datasets into one, renaming/merging/dropping classes through a name → name remap."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from training.yolo_dataset import LabelBox, YoloDataset


@dataclass(frozen=True)
class MergeSource:
    """One input: a loaded dataset, a short prefix for its file names, and a class remap.

    ``remap`` maps a source class name to a target name; a name mapped to ``""`` is dropped; names not in
    the map keep their own name.
    """

    dataset: YoloDataset
    prefix: str
    remap: Mapping[str, str]


@dataclass(frozen=True)
class MergeResult:
    names: tuple[str, ...]
    images: int
    boxes: int
    dropped_boxes: int


def target_names(sources: Sequence[MergeSource], names: Sequence[str] | None = None) -> tuple[str, ...]:
    """Target class list: ``names`` if given, else the remapped names in first-seen order."""
    if names:
        return tuple(names)
    out: list[str] = []
    for s in sources:
        for n in s.dataset.names:
            t = s.remap.get(n, n)
            if t and t not in out:
                out.append(t)
    return tuple(out)


def remap_boxes(
    boxes: Sequence[LabelBox], src_names: Sequence[str], remap: Mapping[str, str], dst_names: Sequence[str]
) -> tuple[tuple[LabelBox, ...], int]:
    """Remap class ids by name; returns kept boxes and how many were dropped."""
    kept: list[LabelBox] = []
    dropped = 0
    for b in boxes:
        t = remap.get(src_names[b.cls], src_names[b.cls])
        if not t or t not in dst_names:
            dropped += 1
            continue
        kept.append(LabelBox(dst_names.index(t), b.cx, b.cy, b.w, b.h))
    return tuple(kept), dropped


def merge(
    sources: Sequence[MergeSource], out_dir: Path, split: str, names: Sequence[str] | None = None
) -> MergeResult:
    """Copy images (as ``<prefix>_<name>``) and remapped labels into ``out_dir/{images,labels}/<split>``."""
    dst = target_names(sources, names)
    img_dir, lbl_dir = out_dir / "images" / split, out_dir / "labels" / split
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    n_img = n_box = n_drop = 0
    for s in sources:
        for item in s.dataset.items:
            boxes, dropped = remap_boxes(item.boxes, s.dataset.names, s.remap, dst)
            name = f"{s.prefix}_{item.image.name}"
            shutil.copyfile(item.image, img_dir / name)
            (lbl_dir / f"{Path(name).stem}.txt").write_text("".join(b.line() + "\n" for b in boxes))
            n_img, n_box, n_drop = n_img + 1, n_box + len(boxes), n_drop + dropped
    lines = [f"path: {out_dir.resolve()}", f"{'val' if split == 'val' else split}: images/{split}", "names:"]
    lines += [f"  {i}: {n}" for i, n in enumerate(dst)]
    (out_dir / "data.yaml").write_text("\n".join(lines) + "\n")
    return MergeResult(dst, n_img, n_box, n_drop)
