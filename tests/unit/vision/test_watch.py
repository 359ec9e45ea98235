"""Watched regions on a synthetic fixed view: a persistent leak-like change is raised once, at the
persistence boundary; what cameras do all day (lighting, exposure, night mode, noise, a person standing
there, a short passer-by) raises nothing; a moved camera is a view change, never a leak."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.watch_scene import textured_view, with_puddle
from vision.watch import EventKind, RegionWatcher, WatchedRegion, WatchSettings

REGION = WatchedRegion("flange-3", (200.0, 160.0, 320.0, 260.0))
Frame = tuple[float, np.ndarray, tuple[tuple[float, float, float, float], ...]]  # at_s, image, people


def _frame(view: np.ndarray, rng: np.random.Generator, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    noisy = view * gain + offset + rng.normal(0, 2.5, view.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _puddle(image: np.ndarray, radius: int) -> np.ndarray:
    return with_puddle(image, (260, 235), radius)


def _run(frames: list[Frame],
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


def _puddle_frames(radius_from: list[tuple[float, int]], seed: int) -> list[Frame]:
    """80 frames, one every 5 s, with a puddle whose radius is that of the latest ``(from_s, radius)``
    reached (latest first in the list); none before the earliest."""
    rng, view = np.random.default_rng(seed), textured_view()
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        radius = next((r for start, r in radius_from if at >= start), 0)
        frames.append((at, _puddle(frame, radius) if radius else frame, ()))
    return frames


def _growing(small: int, grown_at: float) -> list[Frame]:
    """A puddle of radius ``small`` from 100 s that grows to radius 40 at ``grown_at``."""
    return _puddle_frames([(grown_at, 40), (100.0, small)], seed=1)


def test_a_growing_puddle_is_timed_from_when_it_covered_half_of_min_area() -> None:
    # Radius 13 covers about 3 % of the region (half of min_area is 2 %): the clock starts at 100 s, and
    # the grown puddle (23 %) is raised 120 s later. Radius 8 (1 %) starts nothing: timed from 160 s.
    assert _run(_growing(13, grown_at=160.0)) == [("flange-3", "leak.suspected", 220.0)]
    assert _run(_growing(8, grown_at=160.0)) == [("flange-3", "leak.suspected", 280.0)]
    # What never reaches min_area is never raised, however long it stays.
    assert _run(_growing(13, grown_at=1e9)) == []


def test_the_before_panel_of_a_leak_that_crept_in_shows_the_region_before_it() -> None:
    # A spot too small to start the clock (1 % of the region) from 100 s is learned into the latest calm
    # view; it grows past half of min_area at 200 s and to full size at 260 s. "Before" must show neither.
    watcher = RegionWatcher([REGION], WatchSettings())
    raised = []
    for at, frame, _ in _puddle_frames([(260.0, 40), (200.0, 13), (100.0, 6)], seed=3):
        raised += [(e.at_s, watcher.side_by_side(e.region, frame)) for e in watcher.feed(frame, at)]
    assert [at for at, _ in raised] == [320.0]  # the clock started at 200 s
    evidence = raised[0][1]
    # Each panel is the region with a ring half its size around it (frame 140..380 × 110..310, 240 × 200
    # px) drawn at 320 × 267, a 4 px gap between; the spot's centre, frame (260, 235), is (160, 167) in
    # the first panel and (484, 167) in the second.
    assert evidence.shape == (267, 644, 3)
    clean = float(textured_view()[235, 260].mean())
    assert abs(float(evidence[165:170, 158:163].mean()) - clean) < 8  # before: the floor as it was
    assert float(evidence[165:170, 482:487].mean()) < 0.7 * clean  # now: the puddle darkens it by 45 %
    red = np.all(evidence == (0, 0, 255), axis=2)
    assert not red[:, :320].any() and red[:, 324:].sum() > 200  # the changed blob is outlined on now only
    # ... about the puddle (radius 40 px, 53 px in the panel): its outline lies within 60 px of the centre.
    ys, xs = np.nonzero(red[:, 324:])
    assert np.hypot(xs - 160, ys - 167).max() < 60
    amber = np.all(evidence == (0, 215, 255), axis=2)
    # The region's box, frame x 200..320 at y 160..260, is panel x 80..240 at y 67..200, on both panels.
    assert amber[67, 100:220].all() and amber[67, 424:544].all()


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


def _haze(image: np.ndarray, centre: tuple[int, int], radius: int, opacity: float = 0.45) -> np.ndarray:
    """A whitish vapour plume: the surface shows through at ``1 - opacity``."""
    out = image.astype(np.float32)
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.circle(mask, centre, radius, 1.0, -1)
    m = mask[..., None] * opacity
    return np.clip(out * (1 - m) + 235.0 * m, 0, 255).astype(np.uint8)


def test_a_vapour_plume_is_raised_like_a_puddle() -> None:
    rng, view = np.random.default_rng(6), textured_view()
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        frames.append((at, _haze(frame, (260, 210), 30) if at >= 100 else frame, ()))
    assert _run(frames) == [("flange-3", "leak.suspected", 220.0)]


def test_a_flickering_plume_keeps_its_clock_for_gap_s() -> None:
    rng, view = np.random.default_rng(7), textured_view()
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        # From 100 s the plume shows in three frames of four (gone at 115, 135, ..., 215 s).
        frames.append((at, _haze(frame, (260, 210), 30) if at >= 100 and i % 4 != 3 else frame, ()))
    assert _run(frames) == [("flange-3", "leak.suspected", 220.0)]
    # Without the gap each thin frame restarts the clock: runs of 15 s never last 120 s.
    assert _run(frames, WatchSettings(gap_s=0.0)) == []


def _faint_view() -> np.ndarray:
    """The textured view above a concrete-like floor from y = 100 down: mid-grey with a faint grain (std
    ~4 levels), as on many real pads."""
    rng = np.random.default_rng(21)
    grain = cv2.GaussianBlur(rng.normal(0, 9, (260, 480)).astype(np.float32), (0, 0), 1.2)
    view = textured_view()
    view[100:] = np.clip(110.0 + grain, 0, 255)[..., None]
    return view


def _soft_disc(shape: tuple[int, ...]) -> np.ndarray:
    """A disc centred in the region with a soft rim (as plumes and pools of light have), 0-1, (H, W, 1)."""
    mask = np.zeros(shape[:2], np.float32)
    cv2.circle(mask, (260, 210), 32, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), 4.0)[..., None]


def _faint_floor_changed_from_100_s(seed: int, change: Callable[[np.ndarray], np.ndarray]) -> list[Frame]:
    rng, view = np.random.default_rng(seed), _faint_view()
    frames = [_frame(view, rng) for _ in range(80)]
    return [(5.0 * i, change(f) if 5.0 * i >= 100 else f, ()) for i, f in enumerate(frames)]


def test_a_thin_plume_over_a_faint_texture_is_raised() -> None:
    # A quarter-opaque haze leaves 3/4 of a 4-level grain: a 7 × 7 window cannot tell that from noise,
    # the plume's whole blob can. (The per-pixel rule this replaced never raised it.)
    def haze(frame: np.ndarray) -> np.ndarray:
        m = _soft_disc(frame.shape) * 0.25
        return np.clip(frame * (1 - m) + 235.0 * m, 0, 255).astype(np.uint8)

    assert _run(_faint_floor_changed_from_100_s(22, haze)) == [("flange-3", "leak.suspected", 220.0)]


def test_a_surface_lit_more_brightly_in_one_spot_is_no_plume() -> None:
    # A lamp over the region: brighter by the same 25 % share, but the grain gains contrast (slope > 1).
    def lamp(frame: np.ndarray) -> np.ndarray:
        return np.clip(frame * (1.0 + 0.3 * _soft_disc(frame.shape)), 0, 255).astype(np.uint8)

    assert _run(_faint_floor_changed_from_100_s(23, lamp)) == []


def test_frames_clipped_by_an_exposure_step_say_nothing_either_way() -> None:
    rng, view = np.random.default_rng(8), textured_view()
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        if at >= 100:
            frame = _puddle(frame, 40)
        if 150 <= at < 175:  # five frames over-exposed: every level of the view clips at 255
            frame = _frame(view, rng, gain=4.5)
        frames.append((at, frame, ()))
    # No gap allowed: the clock must survive the clipped frames because they are not evidence.
    assert _run(frames, WatchSettings(gap_s=0.0)) == [("flange-3", "leak.suspected", 220.0)]


def test_a_stain_darkening_for_twenty_minutes_is_not_learned_as_the_normal_view() -> None:
    rng, view = np.random.default_rng(9), textured_view()
    frames = []
    for i in range(300):
        at = 5.0 * i
        frame = _frame(view, rng)
        darken = 0.45 * min(1.0, (at - 100) / 1200) if at >= 100 else 0.0  # full at 1300 s
        frames.append((at, with_puddle(frame, (260, 235), 40, darken) if darken > 0 else frame, ()))
    events = _run(frames)
    # Each pixel darkens by ~0.23 levels a frame; a reference following every pixel at 2 % a frame lags
    # it by ~12 levels, under the 14-level margin, and never sees it. Raised once, after the persistence
    # and before the stain is done darkening.
    assert [kind for _, kind, _ in events] == ["leak.suspected"]
    assert 220.0 <= events[0][2] < 1300.0, events


def test_a_change_that_stays_for_relearn_s_becomes_the_normal_and_the_region_watches_again() -> None:
    rng, view = np.random.default_rng(10), textured_view()
    frames = []
    for i in range(200):
        at = 5.0 * i
        frame = _frame(view, rng)
        if 100 <= at < 600:
            frame = _puddle(frame, 40)  # raised at 220, relearned at 400, gone at 600: not leak-like
        if at >= 700:
            frame = with_puddle(frame, (225, 185), 20)  # a new leak elsewhere in the region
        frames.append((at, frame, ()))
    assert _run(frames, WatchSettings(relearn_s=300.0)) == [
        ("flange-3", "leak.suspected", 220.0),
        ("flange-3", "leak.suspected", 820.0),
    ]


def test_only_the_inside_of_a_polygon_is_watched() -> None:
    # A triangle over the box's lower-left half: (200,160) (200,260) (320,260).
    triangle = WatchedRegion.of_polygon("seal", [(200.0, 160.0), (200.0, 260.0), (320.0, 260.0)])
    assert triangle.box == (200.0, 160.0, 320.0, 260.0)
    rng, view = np.random.default_rng(11), textured_view()

    def events(centre: tuple[int, int]) -> list[float]:
        watcher = RegionWatcher([triangle])
        found = []
        for i in range(80):
            at = 5.0 * i
            frame = _frame(view, rng)
            frame = with_puddle(frame, centre, 24) if at >= 100 else frame
            found += [e.at_s for e in watcher.feed(frame, at)]
        return found

    assert events((292, 180)) == []  # upper right of the box: outside the triangle
    assert events((228, 238)) == [220.0]  # lower left: inside


def test_a_person_beside_a_polygon_inside_its_box_does_not_silence_it() -> None:
    # The triangle's box is 200..320 × 160..260; the triangle fills its lower-left half. Someone standing
    # all day in the box's upper right corner (frame 290..330 × 150..200) is beside the triangle, not on it.
    triangle = WatchedRegion.of_polygon("seal", [(200.0, 160.0), (200.0, 260.0), (320.0, 260.0)])
    rng, view = np.random.default_rng(11), textured_view()

    def events(person: tuple[float, float, float, float]) -> list[float]:
        watcher = RegionWatcher([triangle])
        found = []
        for i in range(80):
            at = 5.0 * i
            frame = _frame(view, rng)
            frame = with_puddle(frame, (228, 238), 24) if at >= 100 else frame
            found += [e.at_s for e in watcher.feed(frame, at, (person,))]
        return found

    assert events((290.0, 150.0, 330.0, 200.0)) == [220.0]  # beside it: watched as if nobody were there
    assert events((205.0, 200.0, 240.0, 255.0)) == []  # on it, all the time: nothing can be said


def test_degenerate_polygons_are_refused() -> None:
    frame = textured_view().astype(np.uint8)
    flat = WatchedRegion.of_polygon("flat", [(100.0, 100.0), (200.0, 100.0), (300.0, 100.4), (100.0, 200.0)])
    assert flat.box == (100.0, 100.0, 300.0, 200.0)
    sliver = WatchedRegion.of_polygon("sliver", [(100.0, 100.0), (200.0, 200.0), (201.0, 200.5)])
    with pytest.raises(ValueError, match=r"'sliver': its polygon encloses 25 px²; at least 64"):
        RegionWatcher([sliver]).feed(frame, 0.0)
    with pytest.raises(ValueError, match="at least 3 points, got 2"):
        WatchedRegion.of_polygon("line", [(0.0, 0.0), (50.0, 50.0)])
    RegionWatcher([flat]).feed(frame, 0.0)  # a quadrilateral with a nearly straight edge is fine


def test_the_night_mode_over_a_view_clipped_white_by_day_raises_nothing() -> None:
    rng, view = np.random.default_rng(12), textured_view()
    view[100:320, 130:215] = 290.0  # a bright wall beside the region: 255 (clipped) by day
    frames = []
    for i in range(80):
        at = 5.0 * i
        night = at >= 100  # infrared night mode: flatter and lifted; the wall is 213, its level known again
        frames.append((at, _frame(view, rng, 0.7, 10.0) if night else _frame(view, rng), ()))
    assert _run(frames) == []


def test_the_infrared_night_mode_has_a_reference_of_its_own() -> None:
    rng, grey = np.random.default_rng(13), textured_view()
    view = grey * np.array([0.75, 1.0, 1.15])  # a colour scene (B, G, R)
    view[170:230, 215:305] = (225.0, 235.0, 240.0)  # a white sheet in the region
    view[190:200, 230:290] = (200.0, 200.0, 200.0)  # ... with a printed band on it

    def night(image: np.ndarray) -> np.ndarray:
        """The sensor saturates before the night mode's tone curve: the sheet is a flat grey plateau."""
        gray = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        return np.repeat((gray * 0.7 + 10.0)[..., None], 3, axis=2)

    frames = []
    for i in range(100):
        at = 5.0 * i
        lit = np.clip(view * (1.0 if at < 100 else 1.3), 0, 255)  # brighter: sheet and band saturate
        frame = _frame(night(lit) if at >= 200 else lit, rng)
        if at >= 300:
            frame = with_puddle(frame, (235, 245), 30)  # a puddle at night
        frames.append((at, frame, ()))
    # Night from 200 s (its reference learned from its first 5 frames); the puddle at 300 s is raised at
    # 420 s, and nothing else: compared with the day's reference, the band's plateau would look like haze.
    assert _run(frames) == [("flange-3", "leak.suspected", 420.0)]


def test_a_region_partly_clipped_white_still_shows_a_leak_in_the_rest() -> None:
    rng, view = np.random.default_rng(14), textured_view()
    view[160:190, 200:320] = 290.0  # the region's top 30 %: a lamp-lit sheet, always clipped at 255
    frames = []
    for i in range(80):
        at = 5.0 * i
        frame = _frame(view, rng)
        frames.append((at, _puddle(frame, 40) if at >= 100 else frame, ()))
    # 70 % of the region is left to see, under the 80 % a frame needs to count as calm; the puddle in it
    # is still raised at the persistence boundary.
    assert _run(frames) == [("flange-3", "leak.suspected", 220.0)]


def test_an_exposure_step_at_night_that_saturates_highlights_raises_nothing() -> None:
    """A real photo (Hard Hat Workers fixture) at night; the exposure steps up 1.25× from 200 s to 500 s:
    its bright spots saturate on the sensor, before the night mode's curve, into grey 224 plateaus that
    look darker than the reference once the light is mapped, unless they are known to be saturated."""
    photo = cv2.imread(str(Path(__file__).resolve().parents[2] / "fixtures/hardhat/images/004947.jpg"))
    base = photo.astype(np.float32)
    h, w = base.shape[:2]
    region = WatchedRegion("r", (0.35 * w, 0.55 * h, 0.65 * w, 0.85 * h))
    rng, watcher, events = np.random.default_rng(0), RegionWatcher([region]), []
    for i in range(120):
        at = 5.0 * i
        exposure = 1.25 if 200 <= at < 500 else 1.0
        lit = cv2.cvtColor(np.clip(base * 1.1 * exposure, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
        night = np.repeat((lit.astype(np.float32) * 0.8 + 20.0)[..., None], 3, axis=2)
        frame = np.clip(night + rng.normal(0, 3, night.shape), 0, 255).astype(np.uint8)
        events += [(e.kind.value, e.at_s) for e in watcher.feed(frame, at)]
    assert events == []
