"""Watched regions on a synthetic fixed view: a persistent leak-like change is raised once, at the
persistence boundary; what cameras do all day (lighting, exposure, night mode, noise, a person standing
there, a short passer-by) raises nothing; a moved camera is a view change, never a leak."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.watch_scene import textured_view, with_puddle
from vision.watch import EventKind, RegionWatcher, WatchedRegion, WatchSettings

REGION = WatchedRegion("flange-3", (200.0, 160.0, 320.0, 260.0))


def _frame(view: np.ndarray, rng: np.random.Generator, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    noisy = view * gain + offset + rng.normal(0, 2.5, view.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _puddle(image: np.ndarray, radius: int) -> np.ndarray:
    return with_puddle(image, (260, 235), radius)


def _run(frames: list[tuple[float, np.ndarray, tuple[tuple[float, float, float, float], ...]]],
         settings: WatchSettings | None = None) -> list[tuple[str, str, float]]:  # fmt: skip
    watcher = RegionWatcher([REGION], settings or WatchSettings())
    return [(e.region, e.kind.value, e.at_s) for at, f, people in frames for e in watcher.feed(f, at, people)]


def test_a_puddle_that_stays_is_raised_once_when_it_has_lasted_persist_s() -> None:
    rng, view = np.random.default_rng(1), textured_view()
    frames = []
    for i in range(80):  # one frame every 5 s; the puddle appears at 100 s and stays
        at = 5.0 * i
        frame = _frame(view, rng)
        frames.append((at, _puddle(frame, 40) if at >= 100 else frame, ()))
    # Changed from 100 s; persist 120 s: raised at the first frame at or after 220 s, and only then.
    assert _run(frames) == [("flange-3", "leak.suspected", 220.0)]


def test_a_change_shorter_than_persist_s_and_a_passer_by_raise_nothing() -> None:
    rng, view = np.random.default_rng(2), textured_view()
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        if 100 <= at < 215:  # 115 s of change: 5 s short of the persistence
            frame = _puddle(frame, 40)
        frames.append((at, frame, ()))
    assert _run(frames) == []


def test_lighting_exposure_steps_and_the_night_mode_raise_nothing() -> None:
    rng, view = np.random.default_rng(3), textured_view()
    frames = []
    for i in range(200):
        at = 5.0 * i
        gain = 1.0 + 0.25 * np.sin(2 * np.pi * at / 1000.0)  # a fast light cycle
        gain *= 0.8 if 200 <= at < 500 else 1.0  # an exposure step held five minutes
        offset = 0.0
        if at >= 700:  # infrared night mode: flatter and lifted
            gain, offset = 0.8 * gain, 20.0
        frames.append((at, _frame(view, rng, gain, offset), ()))
    assert _run(frames) == []


def test_a_person_standing_in_front_of_the_region_is_an_occluder_not_a_leak() -> None:
    rng, view = np.random.default_rng(4), textured_view()
    person = (230.0, 100.0, 300.0, 300.0)
    frames = []
    for i in range(120):
        at = 5.0 * i
        frame = _frame(view, rng)
        people: tuple[tuple[float, float, float, float], ...] = ()
        if 100 <= at < 400:  # five minutes standing there, dark clothes
            frame[100:300, 230:300] = 35
            people = (person,)
        frames.append((at, frame, people))
    assert _run(frames) == []
    # Without the detector's box the same footage is a (false) suspected leak: the box is what saves it.
    blind = [(at, f, ()) for at, f, _ in frames]
    assert [kind for _, kind, _ in _run(blind)] == ["leak.suspected"]


def test_a_moved_camera_is_a_view_change_never_a_leak() -> None:
    rng, view = np.random.default_rng(5), textured_view()
    moved = np.roll(view, (35, 50), axis=(0, 1))
    frames = [(5.0 * i, _frame(view if i < 20 else moved, rng), ()) for i in range(80)]
    events = _run(frames)
    assert events == [("*", "camera.view_changed", 130.0)]  # moved at 100 s, held 30 s


def test_bad_regions_are_refused() -> None:
    frame = textured_view().astype(np.uint8)
    outside = RegionWatcher([WatchedRegion("r", (400.0, 300.0, 520.0, 380.0))])
    with pytest.raises(ValueError, match="outside the 480×360 frame"):
        outside.feed(frame, 0.0)
    with pytest.raises(ValueError, match="at least 8 × 8"):
        RegionWatcher([WatchedRegion("r", (10.0, 10.0, 12.0, 40.0))]).feed(frame, 0.0)
    with pytest.raises(ValueError, match="unique"):
        RegionWatcher([REGION, REGION])
    with pytest.raises(ValueError, match="no region"):
        RegionWatcher([])
    assert EventKind.LEAK_SUSPECTED.value == "leak.suspected"
