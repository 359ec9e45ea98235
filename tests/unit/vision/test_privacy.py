"""Face regions from PPE detections and the blur itself, on boxes and pixels worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from vision.detections import Detections
from vision.privacy import blur_regions, face_regions

NAMES = ("head", "helmet", "person", "vest")


def _dets(*rows: tuple[str, float, float, float, float]) -> Detections:
    return Detections(
        np.array([r[1:] for r in rows], np.float32).reshape(-1, 4),
        np.full(len(rows), 0.9, np.float32),
        np.array([NAMES.index(r[0]) for r in rows], np.int64),
        NAMES,
    )


def test_a_head_box_grows_sideways_a_little_and_down_to_the_chin() -> None:
    # 40 × 50 box: 15 % of 40 = 6 each side, 10 % of 50 = 5 up, 45 % of 50 = 22.5 down.
    assert face_regions(_dets(("head", 100, 100, 140, 150)), 640, 480) == [(94.0, 95.0, 146.0, 172.5)]
    assert face_regions(_dets(("helmet", 100, 100, 140, 150)), 640, 480) == [(94.0, 95.0, 146.0, 172.5)]


def test_a_person_without_a_head_box_is_blurred_at_the_top_of_the_body() -> None:
    # No head box in it: the top 22 % of a 200 px tall body (44 px).
    assert face_regions(_dets(("person", 300, 100, 360, 300)), 640, 480) == [(300.0, 100.0, 360.0, 144.0)]
    # With its head found, the head region stands for the person (one region, not two).
    found = face_regions(_dets(("person", 300, 100, 360, 300), ("head", 320, 105, 340, 125)), 640, 480)
    assert found == [(317.0, 103.0, 343.0, 134.0)]


def test_regions_are_clipped_to_the_image_and_vests_hide_nothing() -> None:
    assert face_regions(_dets(("head", 0, 0, 20, 20)), 30, 25) == [(0.0, 0.0, 23.0, 25.0)]
    assert face_regions(_dets(("vest", 10, 10, 50, 50)), 100, 100) == []


def test_the_blur_erases_detail_inside_and_leaves_every_pixel_outside() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)  # full of detail, like a face at close range
    untouched = image.copy()
    out = blur_regions(image, [(40.0, 30.0, 100.0, 90.0)])
    assert np.array_equal(image, untouched)  # the input (the sealed original's pixels) is not changed
    inside, before = out[30:90, 40:100].astype(float), image[30:90, 40:100].astype(float)
    # Detail (neighbour differences) all but gone; the picture inside no longer correlates with the original.
    assert np.abs(np.diff(inside, axis=1)).mean() < 0.1 * np.abs(np.diff(before, axis=1)).mean()
    assert abs(np.corrcoef(inside.ravel(), before.ravel())[0, 1]) < 0.2
    mask = np.ones(image.shape[:2], bool)
    mask[30:90, 40:100] = False
    assert np.array_equal(out[mask], image[mask])


@pytest.mark.parametrize("box", [(-50.0, -50.0, -10.0, -10.0), (10.0, 10.0, 10.0, 40.0)])
def test_a_region_outside_the_image_or_empty_changes_nothing(box: tuple[float, float, float, float]) -> None:
    image = np.arange(60 * 80 * 3, dtype=np.uint32).reshape(60, 80, 3).astype(np.uint8)
    assert np.array_equal(blur_regions(image, [box]), image)
