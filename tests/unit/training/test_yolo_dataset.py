"""Dataset validation on crafted broken datasets: every problem becomes a typed issue, never a crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from train_fixtures import write_image, write_label, write_yaml

from training.yolo_dataset import DatasetError, IssueKind, Severity, label_path_for, load_split


def _broken(root: Path) -> Path:
    tr = root / "images" / "train"
    good = write_image(tr / "good.png", 1)
    write_label(good, ["0 0.5 0.5 0.2 0.2", "1 0.1 0.5 0.5 0.2 0.6 0.4"])  # box + polygon
    write_image(tr / "nolabel.png", 2)
    oob = write_image(tr / "oob.png", 3)
    write_label(oob, ["0 0.95 0.5 0.2 0.2", "0 0.5 0.5 0.1 0.1"])
    unk = write_image(tr / "unknown.png", 4)
    write_label(unk, ["7 0.5 0.5 0.2 0.2", "0.5 0.5 0.5 0.2 0.2"])
    bad = write_image(tr / "malformed.png", 5)
    write_label(bad, ["0 0.5 0.5", "zero 0.5 0.5 0.1 0.1"])
    shutil.copyfile(good, tr / "zdup.png")
    write_label(tr / "zdup.png", ["0 0.5 0.5 0.2 0.2"])
    (tr / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not an image")
    write_label(tr / "corrupt.png", ["0 0.5 0.5 0.2 0.2"])
    (tr / "empty.jpg").write_bytes(b"")
    write_image(root / "images" / "val" / "v.png", 9)
    data: Path = write_yaml(root, ["helmet", "head"])
    return data


def test_broken_dataset_gives_typed_report(tmp_path: Path) -> None:
    data = _broken(tmp_path)
    ds, report = load_split(data, "train")
    assert report.images == 8
    assert report.count(IssueKind.MISSING_LABEL) == 1
    assert report.count(IssueKind.OUT_OF_RANGE) == 1
    assert report.count(IssueKind.UNKNOWN_CLASS) == 2  # id 7 and a non-integer id
    assert report.count(IssueKind.MALFORMED_LINE) == 2
    assert report.count(IssueKind.DUPLICATE_IMAGE) == 1
    assert report.count(IssueKind.CORRUPT_IMAGE) == 2
    assert not report.ok
    names = sorted(i.image.name for i in ds.items)
    assert names == ["good.png", "malformed.png", "nolabel.png", "oob.png", "unknown.png"]
    good = next(i for i in ds.items if i.image.name == "good.png")
    assert [b.cls for b in good.boxes] == [0, 1]
    poly = good.boxes[1]
    assert (poly.cx, poly.cy, poly.w, poly.h) == pytest.approx((0.35, 0.35, 0.5, 0.3))
    oob = next(i for i in ds.items if i.image.name == "oob.png")
    assert len(oob.boxes) == 1  # only the in-range box survives
    dup = next(i for i in report.issues if i.kind is IssueKind.DUPLICATE_IMAGE)
    assert dup.severity is Severity.WARNING and "good.png" in dup.message
    assert report.boxes_per_class == (2, 1)


def test_clean_dataset_is_ok(tmp_path: Path) -> None:
    img = write_image(tmp_path / "images" / "train" / "a.png", 1)
    write_label(img, ["0 0.5 0.5 1.0 1.0"])  # full-image box is in range
    data = write_yaml(tmp_path, ["x"])
    _, report = load_split(data, "train")
    assert report.ok and report.issues == ()


def test_empty_split_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "images" / "train").mkdir(parents=True)
    _, report = load_split(write_yaml(tmp_path, ["x"]), "train")
    assert not report.ok and report.count(IssueKind.EMPTY) == 1


def test_unusable_yaml_raises_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("train: images/train\n")
    with pytest.raises(DatasetError, match="names"):
        load_split(tmp_path / "data.yaml", "train")
    with pytest.raises(DatasetError, match="no 'test' split"):
        load_split(write_yaml(tmp_path, ["x"]), "test")


def test_label_path_rule() -> None:
    assert label_path_for(Path("/d/images/train/a.jpg")) == Path("/d/labels/train/a.txt")
    assert label_path_for(Path("/images/d/images/x.png")) == Path("/images/d/labels/x.txt")
