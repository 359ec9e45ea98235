"""The leak-scene generator is deterministic per seed, and its labels are valid YOLO boxes of its classes."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import cv2
import numpy as np
import pytest
from train_fixtures import training_app
from typer.testing import CliRunner

from training.synth.compose import CLASS_NAMES, CORROSION, LEAK, STAIN, make_sample, write_dataset
from training.synth.corrosion import CorrosionPhoto, NormBox, parse_label_line
from training.yolo_dataset import load_split
from vision.images import read_image

SIZE = 96


def _backgrounds() -> list[np.ndarray]:
    """Two small textured 'photos' (the real generator uses hardhat photos; tests must not need them)."""
    rng = np.random.default_rng(123)
    out = []
    for shape in ((120, 160, 3), (150, 100, 3)):
        base = cv2.GaussianBlur(rng.integers(0, 255, shape, dtype=np.uint8), (9, 9), 0)
        out.append(np.ascontiguousarray(base))
    return out


def _corrosion() -> list[CorrosionPhoto]:
    rng = np.random.default_rng(7)
    img = np.full((80, 100, 3), 90, np.uint8)
    img[20:60, 30:80] = rng.integers(20, 80, (40, 50, 3), dtype=np.uint8) + np.array([0, 40, 120], np.uint8)
    return [CorrosionPhoto("rust", img, (NormBox(0.3, 0.25, 0.8, 0.75),))]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_images_and_labels(tmp_path: Path) -> None:
    bgs, cor = _backgrounds(), _corrosion()
    n_a = write_dataset(tmp_path / "a", "train", 5, 12, SIZE, bgs, cor)
    n_b = write_dataset(tmp_path / "b", "train", 5, 12, SIZE, bgs, cor)
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert n_a == n_b > 0
    assert len(files_a) == 24  # 12 images + 12 label files
    assert files_a == files_b


def test_sample_does_not_depend_on_generation_order() -> None:
    bgs, cor = _backgrounds(), _corrosion()
    later_first = make_sample(3, 9, SIZE, bgs, cor)
    for i in range(9):
        make_sample(3, i, SIZE, bgs, cor)
    again = make_sample(3, 9, SIZE, bgs, cor)
    assert np.array_equal(later_first.image, again.image)
    assert later_first.labels == again.labels


def test_different_seed_gives_different_images_and_labels() -> None:
    bgs, cor = _backgrounds(), _corrosion()
    a = [make_sample(1, i, SIZE, bgs, cor) for i in range(8)]
    b = [make_sample(2, i, SIZE, bgs, cor) for i in range(8)]
    assert all(not np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [x.labels for x in a] != [y.labels for y in b]


def test_labels_are_inside_the_image_and_of_declared_classes() -> None:
    bgs, cor = _backgrounds(), _corrosion()
    seen: set[int] = set()
    for i in range(60):
        sample = make_sample(11, i, SIZE, bgs, cor)
        assert sample.image.shape == (SIZE, SIZE, 3)
        assert sample.image.dtype == np.uint8
        for lb in sample.labels:
            seen.add(lb.cls)
            assert lb.cls in (LEAK, STAIN, CORROSION)
            x1, y1 = lb.cx - lb.w / 2, lb.cy - lb.h / 2
            x2, y2 = lb.cx + lb.w / 2, lb.cy + lb.h / 2
            assert -1e-6 <= x1 < x2 <= 1 + 1e-6
            assert -1e-6 <= y1 < y2 <= 1 + 1e-6
            assert lb.w * SIZE >= 3 and lb.h * SIZE >= 3  # no degenerate slivers
    assert CLASS_NAMES == ("leak", "stain", "corrosion")
    assert seen == {LEAK, STAIN, CORROSION}  # 60 scenes with corrosion photos produce every class


def test_no_corrosion_photos_means_no_corrosion_labels() -> None:
    labels = [lb for i in range(40) for lb in make_sample(4, i, SIZE, _backgrounds(), []).labels]
    assert labels
    assert {lb.cls for lb in labels} <= {LEAK, STAIN}


def test_cli_writes_a_valid_dataset_with_the_declared_classes(tmp_path: Path) -> None:
    bg_dir = tmp_path / "bgs"
    bg_dir.mkdir()
    for i, img in enumerate(_backgrounds()):
        cv2.imwrite(str(bg_dir / f"bg{i}.jpg"), img)
    out = tmp_path / "synth"
    args = ["dataset", "synth", str(out), "--count", "6", "--seed", "3", "--size", str(SIZE)]
    result = CliRunner().invoke(training_app(), [*args, "--backgrounds", str(bg_dir)])
    assert result.exit_code == 0, result.output
    dataset, report = load_split(out / "data.yaml", "train")
    assert dataset.names == CLASS_NAMES
    assert report.ok and report.errors == 0
    assert len(dataset.items) == 6
    assert all(read_image(it.image, max_pixels=SIZE * SIZE).shape == (SIZE, SIZE, 3) for it in dataset.items)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("0 0.5 0.5 0.2 0.4", NormBox(0.4, 0.3, 0.6, 0.7)),
        ("0 0.1 0.2 0.3 0.2 0.2 0.6", NormBox(0.1, 0.2, 0.3, 0.6)),  # polygon → enclosing box
        ("0 0.5 0.5", None),
        ("0 a b c d", None),
    ],
)
def test_corrosion_label_lines(line: str, expected: NormBox | None) -> None:
    got = parse_label_line(line)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert astuple(got) == pytest.approx(astuple(expected))
