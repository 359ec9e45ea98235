"""The composited-leak footage's ground truth: a leak counts as visible only where a camera could show it."""

from __future__ import annotations

import numpy as np

from training.synth.watch_footage import Leak, LeakStyle, Scenario, frames

REGION = (100.0, 100.0, 220.0, 200.0)


def _largest_area(base: np.ndarray, style: LeakStyle) -> float:
    # 1.5 h by day, a frame every 5 min: the lighting cycle rises to 1.25× (250 → 312 before clipping);
    # seed 0 draws no exposure step down far enough to bring the white under 241.
    leak = Leak(style, onset_s=0.0, grow_s=1.0, size=0.9, strength=0.6)
    scenario = Scenario(base, REGION, hours=1.5, interval_s=300.0, leak=leak, seed=0)
    return max(frame.leak_area for frame in frames(scenario))


def test_a_haze_over_a_surface_lit_past_white_is_not_visible_and_a_puddle_there_is() -> None:
    white = np.full((300, 400, 3), 250, np.uint8)
    assert _largest_area(white, LeakStyle.PLUME) == 0.0  # blended towards 235 it stays clipped: no change
    assert _largest_area(white, LeakStyle.PUDDLE) > 0.1  # darkening shows on any surface


def test_a_haze_over_a_dark_surface_is_visible() -> None:
    dark = np.full((300, 400, 3), 60, np.uint8)
    assert _largest_area(dark, LeakStyle.PLUME) > 0.1
