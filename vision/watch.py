"""Watched regions: what changed at a flange, valve or pump seal that a fixed camera sees all day.

No leak training data is needed: each region keeps a reference appearance, and a leak-like departure
from it that persists becomes a suspected leak. What cameras do all day must not:

- illumination (lights, auto-exposure, the infrared night mode): each region is watched with a ring of
  its surroundings, and the current picture is mapped onto the reference by the affine luminance change
  the ring shows (a gain and an offset from its 10th/90th percentiles) before anything is compared, so a
  light, an exposure step or a grey night picture is undone and a leak inside the region is not;
- compression noise and sensor grain: frames are compared at a reduced size, blurred, with a per-pixel
  margin, and a change must form one coherent blob, not scattered pixels;
- people and vehicles passing: frames where a detected person overlaps the region are skipped, and a
  change must last ``persist_s`` (minutes), far longer than anyone walks through;
- slow drift: the reference follows calm pixels of calm frames slowly (``adapt``); a pixel that departs
  from it follows ten times slower, so a leak that grows for a quarter of an hour is not learned as normal;
- a change's clock starts when it covers half of ``min_area`` (a growing leak is suspected ``persist_s``
  after it began to show) and it is raised only at ``min_area``;
- a flickering change (a plume that thins for a frame) keeps its clock for ``gap_s``; a frame where
  clipping hides a fifth of the region (an exposure step) cannot say it is calm: unless what is left
  shows the change, it says nothing, like an occluded one;
- the camera moved or the whole view changed: that is ``camera.view_changed``, never a leak.

Leak-like means a darkening blob (puddle, drip stain, wet patch) or a whitish low-contrast haze (spray,
vapour plume) inside the region: brighter, and with the surface's texture showing through weaker (each
brightened blob's fine detail regressed on the reference's over the whole blob: sensor noise does not
bias that as it does a texture measure, and a blob's hundreds of pixels settle what a 49-pixel window
cannot).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from vision.annotate import text_plate
from vision.detections import Box
from vision.images import encode_jpeg

Image = npt.NDArray[np.uint8]
Gray = npt.NDArray[np.float32]

_SIDE = 96  # regions are compared at this longer side (pixels)
_GLOBAL_SIDE = 64  # the whole frame, for illumination and view changes


class EventKind(StrEnum):
    LEAK_SUSPECTED = "leak.suspected"
    VIEW_CHANGED = "camera.view_changed"


class RegionKind(StrEnum):
    FLANGE = "flange"
    VALVE = "valve"
    PUMP_SEAL = "pump_seal"
    PIPE_RUN = "pipe_run"
    FLOOR = "floor"  # the floor under equipment: puddles


Point = tuple[float, float]
_MIN_POLYGON_AREA = 64.0  # square pixels: an 8 × 8 box's worth


@dataclass(frozen=True, slots=True)
class WatchedRegion:
    name: str
    box: Box  # x1, y1, x2, y2 in frame pixels
    kind: RegionKind = RegionKind.FLANGE
    polygon: tuple[Point, ...] = ()  # frame pixels; () watches the whole box

    @classmethod
    def of_polygon(
        cls, name: str, points: Sequence[Point], kind: RegionKind = RegionKind.FLANGE
    ) -> WatchedRegion:
        """A region watched inside ``points`` (its box is their bounds)."""
        xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
        if len(points) < 3:
            raise ValueError(f"region {name!r}: a polygon needs at least 3 points, got {len(points)}")
        return cls(name, (min(xs), min(ys), max(xs), max(ys)), kind, tuple(zip(xs, ys, strict=True)))

    def corners(self) -> tuple[Point, ...]:
        """Its outline: the polygon, or the box's four corners."""
        if self.polygon:
            return self.polygon
        x1, y1, x2, y2 = self.box
        return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))

    def check(self, width: int, height: int) -> None:
        """Refuse a region that is degenerate or not inside a ``width`` × ``height`` frame."""
        x1, y1, x2, y2 = self.box
        if not all(np.isfinite(v) for v in self.box) or x2 - x1 < 8 or y2 - y1 < 8:
            raise ValueError(f"region {self.name!r}: {self.box} is not a box of at least 8 × 8 pixels")
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise ValueError(f"region {self.name!r}: {self.box} lies outside the {width}×{height} frame")
        if self.polygon:
            area = abs(float(cv2.contourArea(np.asarray(self.polygon, np.float32))))
            if area < _MIN_POLYGON_AREA:
                raise ValueError(
                    f"region {self.name!r}: its polygon encloses {area:g} px²; at least {_MIN_POLYGON_AREA:g}"
                )


@dataclass(frozen=True, slots=True)
class WatchSettings:
    persist_s: float = 120.0  # a change must last this long to be a suspected leak
    margin: float = 14.0  # luminance levels (0-255) a pixel must darken / brighten by
    min_area: float = 0.04  # share of the region the changed blob must cover
    adapt: float = 0.02  # reference update weight per calm frame
    warmup: int = 5  # frames averaged into the first reference
    view_change: float = 0.5  # 1 - correlation of the whole frame with its reference: the view changed
    view_persist_s: float = 30.0  # ... for this long (a truck passing is not a moved camera)
    rearm_s: float = 60.0  # calm this long after an event before the region can raise another
    gap_s: float = 30.0  # a change may lapse this long (a plume thinning, a noisy frame) and still go on
    relearn_s: float = 3600.0  # a raised change that lasts this long is the region's new normal
    min_usable: float = 0.8  # share of the region that must be unclipped for a frame to be calm


@dataclass(frozen=True, slots=True)
class WatchEvent:
    region: str
    kind: EventKind
    at_s: float
    score: float


_VIEW_QUALITY = 90  # JPEG quality of the calm views kept for evidence


@dataclass(slots=True)
class _CalmViews:
    """The region and its surroundings in colour as calm frames showed them, for evidence: one view kept
    from ``keep_s`` to twice that back, so the "before" of a leak that crept in slowly does not show it.

    Kept as JPEG and taken at most every ``keep_s``: a view is wanted only when a leak is raised, and 500
    regions' views in pixels would be hundreds of megabytes."""

    staged: tuple[float, bytes] | None = None
    aged: bytes | None = None

    def due(self, at_s: float, keep_s: float) -> bool:
        return self.staged is None or at_s - self.staged[0] >= keep_s

    def add(self, at_s: float, view: Image) -> None:
        jpeg = encode_jpeg(view, _VIEW_QUALITY)
        self.aged = self.staged[1] if self.staged is not None else jpeg
        self.staged = (at_s, jpeg)


@dataclass(slots=True)
class _RegionState:
    region: WatchedRegion
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)  # the region and its ring, frame pixels
    scale: float = 1.0  # compare pixels per frame pixel
    inner: tuple[slice, slice] = (slice(0), slice(0))  # the region inside the crop, at the compare scale
    ring: npt.NDArray[np.bool_] | None = None  # the ring's pixels at the compare scale
    inside: npt.NDArray[np.bool_] | None = None  # the polygon's pixels inside ``inner``
    reference: Gray | None = None
    views: _CalmViews = field(default_factory=_CalmViews)
    before_view: bytes | None = None  # the aged calm view (JPEG) when the change's clock started
    blob: npt.NDArray[np.bool_] | None = None  # the changed blob when raised, at the compare scale
    # The other picture mode's reference and view (colour by day, monochrome in infrared night mode).
    other_mode: tuple[Gray | None, _CalmViews | None] = (None, None)
    warm: list[Gray] = field(default_factory=list)
    changed_since: float | None = None
    changed_last: float = 0.0  # the latest frame whose change reached ``min_area``
    raised: bool = False
    calm_since: float | None = None
    last_score: float = 0.0


_MONO_CHROMA = 3.0  # mean |B-G| + |G-R| (levels) under which a picture is monochrome


def _is_monochrome(frame: Image) -> bool:
    """An infrared night picture carries no colour: in it, surfaces reflect differently than by day (a
    white sheet saturated by day is grey at night, its markings gone), which no luminance map undoes, so
    each mode is compared with a reference of its own."""
    if frame.ndim != 3:
        return True
    small = cv2.resize(frame, (32, 18), interpolation=cv2.INTER_AREA).astype(np.int16)
    chroma = np.abs(small[..., 0] - small[..., 1]) + np.abs(small[..., 1] - small[..., 2])
    return float(chroma.mean()) < _MONO_CHROMA


def _gray(image: Image, side: int) -> Gray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = gray.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    blurred: Gray = cv2.GaussianBlur(small.astype(np.float32), (3, 3), 0).astype(np.float32)
    return blurred


def _levels(values: Gray) -> tuple[float, float]:
    """10th and 90th percentiles of grey levels, to the level (a 256-bin histogram: ~20× np.percentile)."""
    counts = np.bincount(np.clip(values, 0, 255).astype(np.uint8).ravel(), minlength=256)
    cumulative = np.cumsum(counts)
    total = cumulative[-1]
    return float(np.searchsorted(cumulative, 0.1 * total)), float(np.searchsorted(cumulative, 0.9 * total))


_CLIP = 245.0  # levels at or above this have lost their value (saturated)
_PLATEAU_SHARE = 0.005  # this much of a picture within 3 levels of its top: a saturated plateau
# ... at a bright top only: the flat middle of a plume over a mid-grey floor is a plateau too, but its
# level is known (a sensor's white, even the infrared mode's grey one, lies well above this).
_PLATEAU_LOW = 192.0


def white_limit(picture: Gray) -> float:
    """The level from which ``picture``'s values are unknown: 245, or lower where it has a flat plateau
    at its top (a sensor that saturated before a tone curve, as the infrared night mode does: its white
    is a grey 224, not 255)."""
    top = float(picture.max())
    if _PLATEAU_LOW <= top < _CLIP and float((picture >= top - 3.0).mean()) >= _PLATEAU_SHARE:
        return top - 3.0
    return _CLIP


def _unclipped_affine(
    reference: Gray, current: Gray, where: npt.NDArray[np.bool_] | None = None
) -> tuple[float, float]:
    """``_affine`` over the pixels (of ``where``) whose level is known in both pictures: a pixel clipped
    at white (or a saturated plateau) or crushed to black in either (a bright sky by day, an exposure
    step) would pull the gain away from what the light did, and a whole region would then look darker
    than it is."""
    known = (reference > 5.0) & (reference < white_limit(reference))
    known &= (current > 5.0) & (current < white_limit(current))
    if where is not None:
        known &= where
    if known.sum() < 16:  # hardly anything known: the best guess is all of it
        known = np.ones(reference.shape, bool) if where is None else where
    return _affine(reference[known], current[known])


def _affine(reference: Gray, current: Gray) -> tuple[float, float]:
    """Gain and offset mapping ``current`` onto ``reference`` (from their 10th/90th percentiles)."""
    r10, r90 = _levels(reference)
    c10, c90 = _levels(current)
    if c90 - c10 < 4.0 or r90 - r10 < 4.0:  # flat: only the level can be matched
        return 1.0, float(np.median(reference) - np.median(current))
    gain = float((r90 - r10) / (c90 - c10))
    return gain, float(r10 - gain * c10)


def _occludes(state: _RegionState, person: Box) -> bool:
    """Whether ``person`` stands over the region's polygon (not merely its bounding box: a worker who
    always stands beside a slanted region must not keep it from being watched)."""
    x1, y1, x2, y2 = state.region.box
    left, top, right, bottom = max(x1, person[0]), max(y1, person[1]), min(x2, person[2]), min(y2, person[3])
    if right <= left or bottom <= top:
        return False
    assert state.inside is not None
    height, width = state.inside.shape

    def span(low: float, high: float, origin: float, size: int) -> slice:  # frame pixels → compare pixels
        start = min(int((low - origin) * state.scale), size - 1)
        return slice(start, max(start + 1, min(size, round((high - origin) * state.scale))))

    return bool(state.inside[span(top, bottom, y1, height), span(left, right, x1, width)].any())


def _largest_component(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """The mask's largest connected blob (after removing specks), for evidence."""
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    return np.asarray(labels == 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax()), bool)


def _largest_blob(mask: npt.NDArray[np.uint8], area: float) -> float:
    """Share of ``area`` (pixels) taken by the mask's largest connected blob (after removing specks)."""
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / max(area, 1.0)


_HAZE_GAIN = 0.85  # a blob's texture showing through at most this strongly: washed out by haze
_HAZE_CORRELATION = 0.5  # ... and still the same texture (a dark object taken away leaves another one)
_DETAIL_WINDOW = (7, 7)  # texture is what a pixel departs from its 7 × 7 neighbourhood's mean


def _hazy_blobs(reference: Gray, current: Gray, brightened: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """The blobs of ``brightened`` pixels through which the reference's texture shows weaker but is still
    the same texture: ``current``'s detail regressed on the reference's over each whole blob.

    Judged per blob, not per pixel: a thin haze over a faint texture washes it out by a fifth or so, which
    a 7 × 7 window cannot tell from sensor noise, while a blob's hundreds of pixels can. A surface lit
    more brightly gains contrast (slope above 1), and where a dark object was taken away the texture is
    another one (no correlation): neither is haze."""
    opened: npt.NDArray[np.uint8] = np.asarray(
        cv2.morphologyEx(brightened.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), np.uint8
    )
    count, labels = cv2.connectedComponents(opened, connectivity=8)
    if count <= 1:
        return opened
    reference_detail = (reference - cv2.blur(reference, _DETAIL_WINDOW)).ravel()
    current_detail = (current - cv2.blur(current, _DETAIL_WINDOW)).ravel()
    # Only the blob's inside, a window's half-width from its edge: the edge of what came or went (a
    # plume's rim, the outline of a puddle that dried) is detail one picture has and the other lacks.
    inside = cv2.erode(opened, np.ones(_DETAIL_WINDOW, np.uint8)).astype(bool)
    flat = np.where(inside, labels, 0).ravel()
    rr = np.bincount(flat, reference_detail * reference_detail, count)
    rc = np.bincount(flat, reference_detail * current_detail, count)
    cc = np.bincount(flat, current_detail * current_detail, count)
    slope = rc / np.maximum(rr, 1e-6)
    correlation = rc / np.sqrt(np.maximum(rr * cc, 1e-12))
    haze = (slope < _HAZE_GAIN) & (correlation > _HAZE_CORRELATION)
    haze[0] = False  # the background
    hazy: npt.NDArray[np.uint8] = haze[labels].astype(np.uint8)
    return hazy


def _leak_masks(
    reference: Gray, current: Gray, margin: float, usable: npt.NDArray[np.bool_] | None
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The pixels darkened (by ``margin`` levels, or a fifth of the reference's level on dark surfaces)
    and the blobs brightened by ``margin`` with their texture washed out (haze)."""
    drop = reference - current
    keep = np.ones(reference.shape, bool) if usable is None else usable
    darker = keep & ((drop > margin) | ((drop > 6.0) & (drop > 0.2 * reference)))
    return darker.astype(np.uint8), _hazy_blobs(reference, current, keep & (-drop > margin))


def leak_score(
    reference: Gray,
    current: Gray,
    margin: float,
    usable: npt.NDArray[np.bool_] | None = None,
    area: float | None = None,
) -> float:
    """How much of the region departs from its reference in a leak-like way: the largest darkened or
    hazy blob (``_leak_masks``) as a share of ``area`` (default: every pixel)."""
    share = float(reference.size) if area is None else area
    darker, hazy = _leak_masks(reference, current, margin, usable)
    return max(_largest_blob(darker, share), _largest_blob(hazy, share))


def leak_blob(
    reference: Gray, current: Gray, margin: float, usable: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """The blob ``leak_score`` measured (the larger of the darkened and the hazy one)."""
    darker, hazy = (_largest_component(m) for m in _leak_masks(reference, current, margin, usable))
    return darker if darker.sum() >= hazy.sum() else hazy


class RegionWatcher:
    """Feed frames of one fixed camera in time order; get the events they raise."""

    def __init__(self, regions: Sequence[WatchedRegion], settings: WatchSettings | None = None) -> None:
        names = [r.name for r in regions]
        if len(set(names)) != len(names):
            raise ValueError(f"region names must be unique: {names}")
        if not regions:
            raise ValueError("no region to watch")
        self.settings = settings or WatchSettings()
        self._states = [_RegionState(r) for r in regions]
        self._checked: tuple[int, int] | None = None
        self._global_ref: Gray | None = None
        self._view_changed_since: float | None = None
        self._view_raised = False
        self._mono: bool | None = None

    def feed(self, frame: Image, at_s: float, people: Sequence[Box] = ()) -> list[WatchEvent]:
        """One frame at ``at_s`` seconds; ``people``: boxes of persons seen in it (occluders)."""
        height, width = frame.shape[:2]
        if self._checked != (width, height):
            for state in self._states:
                state.region.check(width, height)
                _place(state, width, height)
            self._checked = (width, height)
        s = self.settings
        mono = _is_monochrome(frame)
        if self._mono is not None and mono != self._mono:
            for state in self._states:  # the infrared night mode switched: each mode has its reference
                current_mode = (state.reference, state.views)
                state.reference, views = state.other_mode
                state.views = views if views is not None else _CalmViews()
                state.other_mode, state.warm = current_mode, []
        self._mono = mono
        luma: Image = np.asarray(
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame, np.uint8
        )
        whole = _gray(luma, _GLOBAL_SIDE)
        if self._global_ref is None or self._global_ref.shape != whole.shape:
            self._global_ref = whole
        a, b = _unclipped_affine(self._global_ref, whole)
        whole = whole * a + b  # lights, auto-exposure, night mode: matched to the reference view
        events: list[WatchEvent] = []
        view_change = self._view_change(whole)
        if view_change >= s.view_change:
            if self._view_changed_since is None:
                self._view_changed_since = at_s
            lasted = at_s - self._view_changed_since
            if not self._view_raised and lasted >= s.view_persist_s:
                self._view_raised = True
                events.append(WatchEvent("*", EventKind.VIEW_CHANGED, at_s, round(view_change, 4)))
            if lasted >= s.persist_s:  # the new view is the view now: learn it afresh
                self._reset(whole)
            return events  # a changed view says nothing about any region
        self._view_changed_since, self._view_raised = None, False
        for state in self._states:
            event = self._feed_region(state, frame, luma, at_s, people)
            if event is not None:
                events.append(event)
        if view_change < s.view_change / 4:  # a calm view: follow slow drift of the whole frame
            ref = self._global_ref
            self._global_ref = ref + s.adapt * (whole - ref)
        return events

    def side_by_side(self, name: str, frame: Image, labels: tuple[str, str] = ("before", "now")) -> Image:
        """Evidence for an event in region ``name``: the region and its surroundings as they were before
        the change began and now, side by side (``labels`` on them), the region outlined on both and the
        changed blob on now."""
        state = next(st for st in self._states if st.region.name == name)
        now = _crop(frame, state.crop)
        stored = state.before_view if state.before_view is not None else state.views.aged
        before = _decoded(stored) if stored else now
        height, width = now.shape[:2]
        scale = _PANEL_SIDE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        panels = [
            np.asarray(cv2.resize(p, size, interpolation=cv2.INTER_LINEAR), np.uint8) for p in (before, now)
        ]
        outline = _panel_points(state, state.region.corners(), scale)
        for panel in panels:
            cv2.polylines(panel, [outline], True, _REGION_COLOUR, 2, cv2.LINE_AA)
        if state.blob is not None:
            cv2.drawContours(panels[1], _blob_contours(state, state.blob, size), -1, _BLOB_COLOUR, 2)
        panels = [text_plate(panel, label) for panel, label in zip(panels, labels, strict=True)]
        gap = np.full((size[1], 4, 3), 255, np.uint8)
        return np.hstack([panels[0], gap, panels[1]])

    def scores(self) -> dict[str, float]:
        return {state.region.name: state.last_score for state in self._states}

    def _view_change(self, whole: Gray) -> float:
        """1 - the correlation of the frame's structure with the reference view's: near 0 under any
        lighting (it is affine-invariant), near 1 when the camera looks elsewhere."""
        assert self._global_ref is not None
        if whole.shape != self._global_ref.shape:
            return 1.0
        a = whole - whole.mean()
        b = self._global_ref - self._global_ref.mean()
        denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
        if denominator < 1e-6:  # a flat picture (black, covered): nothing to compare, not a move
            return 0.0
        return 1.0 - float((a * b).sum()) / denominator

    def _reset(self, whole: Gray) -> None:
        self._global_ref = whole
        self._view_changed_since, self._view_raised = None, False
        for state in self._states:
            state.reference, state.warm, state.changed_since = None, [], None
            state.other_mode, state.views = (None, None), _CalmViews()

    def _feed_region(
        self, state: _RegionState, frame: Image, luma: Image, at_s: float, people: Sequence[Box]
    ) -> WatchEvent | None:
        s = self.settings
        if any(_occludes(state, person) for person in people):
            return None  # occluded: says nothing either way, and must not enter the reference
        cx1, cy1, cx2, cy2 = state.crop
        crop = _gray(luma[cy1:cy2, cx1:cx2], _SIDE)
        if state.reference is None:
            state.warm.append(crop)
            if len(state.warm) >= s.warmup:
                state.reference = np.median(np.stack(state.warm), axis=0).astype(np.float32)
                state.warm = []
                state.views.add(at_s, _crop(frame, state.crop))
            return None
        assert state.ring is not None and state.inside is not None
        a, b = _unclipped_affine(state.reference, crop, state.ring)  # what the light did around it
        mapped = np.clip(crop * a + b, 0, 255).astype(np.float32)
        current = mapped[state.inner]
        # A clipped pixel (a bright patch after an exposure step) has lost its level: it says nothing.
        unclipped = crop[state.inner] < white_limit(crop)
        usable = unclipped & state.inside
        area = float(state.inside.sum())
        score = leak_score(state.reference[state.inner], current, s.margin, usable, area)
        state.last_score = score
        if score >= s.min_area:  # what is left to see shows the change
            event = self._changed(state, at_s, score)
            if event is not None:
                state.blob = leak_blob(state.reference[state.inner], current, s.margin, usable)
            return event
        if usable.sum() < s.min_usable * area:
            return None  # too little left to see to call it calm: says nothing either way
        if score >= s.min_area / 2:
            # Half the area starts the clock and keeps it running (a leak that grows is suspected
            # ``persist_s`` after it began to show, not after it reached full size); raising still needs
            # ``min_area``. Nothing is learned from such a frame.
            if state.changed_since is None:
                _start_clock(state, at_s)
            state.calm_since = None
            return None
        if state.changed_since is not None and at_s - state.changed_last <= s.gap_s:
            return None  # a change that thinned for a moment goes on: its clock runs, nothing is learned
        state.changed_since = None
        if state.calm_since is None:
            state.calm_since = at_s
        if state.raised and at_s - state.calm_since >= s.rearm_s:
            state.raised = False
        # Only calm frames teach the reference, and only unclipped ones (an exposure step's saturated
        # patches would teach it a level that is not there).
        if score < s.min_area / 2 and unclipped.mean() > 0.98:
            delta = mapped - state.reference
            rate = np.where(np.abs(delta) < s.margin / 2, s.adapt, s.adapt / 10).astype(np.float32)
            state.reference = state.reference + rate * delta
            if state.views.due(at_s, s.persist_s):
                state.views.add(at_s, _crop(frame, state.crop))
        return None

    def _changed(self, state: _RegionState, at_s: float, score: float) -> WatchEvent | None:
        s = self.settings
        state.calm_since, state.changed_last = None, at_s
        since = state.changed_since if state.changed_since is not None else _start_clock(state, at_s)
        lasted = at_s - since
        if not state.raised and lasted >= s.persist_s:
            state.raised = True
            return WatchEvent(state.region.name, EventKind.LEAK_SUSPECTED, at_s, round(score, 4))
        if state.raised and lasted >= s.relearn_s:  # raised an hour ago and still there: the new normal
            state.reference, state.warm, state.changed_since = None, [], None
            state.views = _CalmViews()
        return None


def _start_clock(state: _RegionState, at_s: float) -> float:
    state.changed_since, state.before_view = at_s, state.views.aged
    return at_s


def _crop(frame: Image, box: Box | tuple[int, int, int, int]) -> Image:
    x1, y1, x2, y2 = (round(v) for v in box)
    crop = frame[y1:y2, x1:x2]
    return np.ascontiguousarray(crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))


_PANEL_SIDE = 320  # evidence panels are drawn at this longer side (pixels)
_REGION_COLOUR = (0, 215, 255)  # BGR: amber
_BLOB_COLOUR = (0, 0, 255)  # BGR: red


def _panel_points(
    state: _RegionState, points: Sequence[tuple[float, float]], scale: float
) -> npt.NDArray[np.int32]:
    """Frame points in an evidence panel's pixels (the panel is the crop scaled by ``scale``)."""
    origin = np.asarray(state.crop[:2], np.float32)
    return np.round((np.asarray(points, np.float32) - origin) * scale).astype(np.int32)


def _blob_contours(
    state: _RegionState, blob: npt.NDArray[np.bool_], size: tuple[int, int]
) -> Sequence[cv2.typing.MatLike]:
    """The blob's outline in a panel of ``size`` (width, height): the blob lies in the region's part
    (``inner``) of the crop at the compare scale."""
    assert state.ring is not None
    whole = np.zeros(state.ring.shape, np.uint8)
    whole[state.inner] = blob
    scaled = cv2.resize(whole, size, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(scaled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return contours


def _decoded(jpeg: bytes) -> Image:
    return np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)


def _place(state: _RegionState, width: int, height: int) -> None:
    """The crop (region plus a ring half its size on each side, within the frame) and, at the compare
    scale, where the region and the ring lie in it."""
    x1, y1, x2, y2 = (round(v) for v in state.region.box)
    mx, my = (x2 - x1) // 2, (y2 - y1) // 2
    cx1, cy1, cx2, cy2 = max(0, x1 - mx), max(0, y1 - my), min(width, x2 + mx), min(height, y2 + my)
    state.crop = (cx1, cy1, cx2, cy2)
    scale = state.scale = _SIDE / max(cx2 - cx1, cy2 - cy1)
    cw, ch = max(1, round((cx2 - cx1) * scale)), max(1, round((cy2 - cy1) * scale))
    ix1, iy1 = round((x1 - cx1) * scale), round((y1 - cy1) * scale)
    ix2, iy2 = max(ix1 + 1, round((x2 - cx1) * scale)), max(iy1 + 1, round((y2 - cy1) * scale))
    state.inner = (slice(iy1, iy2), slice(ix1, ix2))
    ring = np.ones((ch, cw), bool)
    ring[state.inner] = False
    if ring.sum() < 16:  # a region filling the frame has no ring: compare it with itself
        ring[:] = True
    state.ring = ring
    inside = np.ones((iy2 - iy1, ix2 - ix1), bool)
    if state.region.polygon:
        polygon = (np.asarray(state.region.polygon, np.float32) - (x1, y1)) * scale
        mask = np.zeros(inside.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
        inside = mask.astype(bool)
        if not inside.any():  # thinner than a compare-scale pixel: watch its box
            inside[:] = True
    state.inside = inside
    state.reference, state.warm, state.changed_since = None, [], None
    state.other_mode, state.views = (None, None), _CalmViews()
