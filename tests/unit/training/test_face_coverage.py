"""The face-blur coverage measure, on boxes whose overlaps are worked out by hand."""

from __future__ import annotations

import pytest

from training.face_coverage import coverage, image_coverage


def test_coverage_of_each_head_by_the_union_of_regions() -> None:
    heads = [(0.0, 0.0, 10.0, 10.0), (20.0, 0.0, 30.0, 10.0), (40.0, 0.0, 50.0, 10.0)]
    # First head: left half (50 of 100 px) by one region, a 2 px strip more by another → 70 %.
    # Second: fully inside. Third: untouched.
    regions = [(0.0, 0.0, 5.0, 10.0), (5.0, 0.0, 7.0, 10.0), (15.0, -5.0, 35.0, 15.0)]
    assert coverage(heads, regions, 60, 20) == [0.7, 1.0, 0.0]


def test_regions_outside_the_image_are_clipped_and_empty_heads_count_as_covered() -> None:
    assert coverage([(8.0, 8.0, 12.0, 12.0)], [(-50.0, -50.0, 200.0, 200.0)], 10, 10) == [1.0]
    assert coverage([(5.0, 5.0, 5.0, 5.0)], [], 10, 10) == [1.0]


def test_over_blur_is_the_blurred_share_away_from_heads() -> None:
    result = image_coverage([(0.0, 0.0, 10.0, 10.0)], [(0.0, 0.0, 20.0, 10.0)], 20, 20)
    assert result.covered == (1.0,) and result.heights == (10.0,)
    assert result.over_blur == pytest.approx(100 / 400)
