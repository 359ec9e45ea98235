"""Deterministic split and merging with class remapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import write_image, write_label, write_yaml

from training.merge import MergeSource, merge
from training.split import split_paths, write_split
from training.yolo_dataset import load_split


def test_split_is_deterministic_and_stable_under_additions() -> None:
    paths = [Path(f"/x/img_{i}.jpg") for i in range(400)]
    a = split_paths(paths, val=0.2, test=0.1, seed=3)
    b = split_paths(list(reversed(paths)), val=0.2, test=0.1, seed=3)
    assert a == b
    assert 50 < len(a.val) < 110 and 15 < len(a.test) < 65
    assert set(a.train) | set(a.val) | set(a.test) == set(paths)
    more = split_paths([*paths, *(Path(f"/x/new_{i}.jpg") for i in range(100))], val=0.2, test=0.1, seed=3)
    assert set(a.val) <= set(more.val) and set(a.train) <= set(more.train)
    assert split_paths(paths, val=0.2, test=0.1, seed=4).val != a.val


def test_split_rejects_bad_fractions() -> None:
    with pytest.raises(ValueError):
        split_paths([], val=0.7, test=0.3)


def test_write_split_is_loadable(tmp_path: Path) -> None:
    imgs = [write_image(tmp_path / "src" / "images" / f"{i}.png", i) for i in range(10)]
    for p in imgs:
        write_label(p, ["0 0.5 0.5 0.2 0.2"])
    data = write_split(split_paths(imgs, val=0.3, seed=0), ("x",), tmp_path / "split")
    tr, _ = load_split(data, "train")
    va, _ = load_split(data, "val")
    assert len(tr.items) + len(va.items) == 10
    assert not {i.image for i in tr.items} & {i.image for i in va.items}


def test_merge_remaps_merges_and_drops_classes(tmp_path: Path) -> None:
    a_img = write_image(tmp_path / "a" / "images" / "train" / "1.png", 1)
    write_label(a_img, ["0 0.5 0.5 0.2 0.2", "1 0.3 0.3 0.1 0.1"])
    a = load_split(write_yaml(tmp_path / "a", ["helmet", "head"]), "train")[0]
    b_img = write_image(tmp_path / "b" / "images" / "train" / "1.png", 2)
    write_label(b_img, ["0 0.5 0.5 0.2 0.2", "1 0.4 0.4 0.2 0.2", "2 0.6 0.6 0.2 0.2"])
    b = load_split(write_yaml(tmp_path / "b", ["person", "hardhat", "no_hardhat"]), "train")[0]
    result = merge(
        [
            MergeSource(a, "a", {}),
            MergeSource(b, "b", {"hardhat": "helmet", "no_hardhat": "head", "person": ""}),
        ],
        tmp_path / "out",
        "train",
    )
    assert result.names == ("helmet", "head")
    assert (result.images, result.boxes, result.dropped_boxes) == (2, 4, 1)
    merged, report = load_split(tmp_path / "out" / "data.yaml", "train")
    assert report.ok
    by_name = {i.image.name: [bx.cls for bx in i.boxes] for i in merged.items}
    assert by_name == {"a_1.png": [0, 1], "b_1.png": [0, 1]}
