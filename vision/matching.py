"""Before/after verification: did the rectification really remove the hazard?

``verify`` registers the after photo onto the before photo, checks the hazard box, and returns a
``Verification`` with a verdict and every number behind it. Its one rule: never ``resolved`` by accident;
anything doubtful (weak match, featureless photo, box out of view, ambiguous change) is
``needs_reinspection``, never ``resolved``.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Box
from vision.leak import LEAK_CLASSES
from vision.matching_region import Detector, RegionCheck, check_region
from vision.matching_registration import Registration, RegistrationConfig, register

__all__ = [
    "Detector",
    "MatchingError",
    "RegionCheck",
    "Registration",
    "Verdict",
    "Verification",
    "VerifyConfig",
    "decide_region",
    "decide_scene",
    "hazard_classes_for",
    "verify",
]

MIN_SIDE = 64
_MS_PER_S = 1e3  # a module constant: mutmut would make a literal 1001.0, a change no test can time
# Classes whose presence *is* a hazard (a ``head`` is a head without a helmet); helmets and persons are not.
HAZARD_LABELS = frozenset({"head", "no_helmet", "no_vest", *LEAK_CLASSES})


def hazard_classes_for(class_names: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The classes of a detector whose detection inside the warped box means the hazard is still there."""
    return frozenset(class_names) & HAZARD_LABELS


class MatchingError(ValueError):
    """Inputs that cannot be verified at all (too small, not an image, box outside the photo)."""


class Verdict(enum.StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    DIFFERENT_SCENE = "different_scene"
    NEEDS_REINSPECTION = "needs_reinspection"


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    """Decision thresholds; calibrated on the benchmark's calibration seed, evaluated on another."""

    registration: RegistrationConfig = field(default_factory=RegistrationConfig)
    same_scene_min: float = 0.85  # seed: a match below 85 % needs re-inspection, never closure
    different_scene_max: float = 0.15  # below this (with features present) it is another place
    min_ring_similarity: float = 0.5  # surroundings must agree, else the registration is locally wrong
    min_visible: float = 0.9  # the after photo must show (almost) all of the box
    resolved_change: float = 0.2  # box similarity at most 80 % of the surroundings' ...
    resolved_diff_ratio: float = 2.5  # ... and clearly larger differences than the surroundings
    unchanged_change: float = 0.1  # at most this much relative change ...
    unchanged_diff_ratio: float = 2.0  # ... and differences like the surroundings': the region looks the same
    # A hazard-class detection in the region means the hazard is still there. None: any detection the
    # detector reports counts, because the detector already applies its model card's per-class thresholds
    # (the operating point chosen on held-out data); a number adds a floor of its own on top.
    hazard_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: Verdict
    reasons: tuple[str, ...]
    registration: Registration | None
    region: RegionCheck | None
    timings_ms: tuple[tuple[str, float], ...]


def verify(
    before: npt.NDArray[np.uint8],
    after: npt.NDArray[np.uint8],
    box: Box,
    *,
    detector: Detector | None = None,
    hazard_classes: frozenset[str] = frozenset(),
    config: VerifyConfig | None = None,
) -> Verification:
    """Verify that the hazard inside ``box`` (before-photo pixels) is gone from the after photo."""
    cfg = config or VerifyConfig()
    _check_image(before, "before")
    _check_image(after, "after")
    box = _check_box(box, before.shape)
    timings: list[tuple[str, float]] = []
    start = time.perf_counter()

    if before.shape == after.shape and _mean_abs_difference(before, after) < 1.0:
        # A re-submitted before photo proves nothing was fixed.
        return Verification(
            Verdict.NOT_RESOLVED, ("after photo is identical to the before photo",), None, None, ()
        )

    reg = register(before, after, cfg.registration)
    timings.append(("registration", (time.perf_counter() - start) * _MS_PER_S))
    scene = decide_scene(reg, cfg)
    if scene is not None:
        return Verification(scene[0], scene[1], reg, None, tuple(timings))
    assert reg.homography is not None  # decide_scene calls a missing homography a different scene

    t_region = time.perf_counter()
    region = check_region(before, after, box, reg.homography, detector, hazard_classes)
    timings.append(("region", (time.perf_counter() - t_region) * _MS_PER_S))
    verdict, reasons = decide_region(region, cfg)
    return Verification(verdict, reasons, reg, region, tuple(timings))


def decide_scene(reg: Registration, cfg: VerifyConfig) -> tuple[Verdict, tuple[str, ...]] | None:
    """The verdict when the registration alone settles it (featureless, another place, weak match);
    None when the scene matches well enough to look at the hazard region."""
    if min(reg.keypoints_before, reg.keypoints_after) < cfg.registration.min_features:
        which = "before" if reg.keypoints_before < reg.keypoints_after else "after"
        keypoints = min(reg.keypoints_before, reg.keypoints_after)
        return Verdict.NEEDS_REINSPECTION, (f"{which} photo is blank or featureless ({keypoints} keypoints)",)
    if reg.homography is None or reg.same_scene < cfg.different_scene_max:
        reason = f"different scene: same-scene score {reg.same_scene:.2f}, {reg.inliers} inliers"
        return Verdict.DIFFERENT_SCENE, (reason,)
    if reg.same_scene < cfg.same_scene_min:
        score = f"{reg.same_scene:.2f} < {cfg.same_scene_min:.2f}"
        return Verdict.NEEDS_REINSPECTION, (f"weak match: same-scene score {score} ({reg.inliers} inliers)",)
    return None


def decide_region(region: RegionCheck, cfg: VerifyConfig) -> tuple[Verdict, tuple[str, ...]]:
    """The verdict from the hazard region's numbers, once the scene matches."""
    if region.visible_fraction < cfg.min_visible:
        return Verdict.NEEDS_REINSPECTION, (
            f"after photo shows only {region.visible_fraction:.0%} of the hazard box",
        )
    if region.ring_similarity < cfg.min_ring_similarity:
        return Verdict.NEEDS_REINSPECTION, (
            f"surroundings do not agree after registration (similarity {region.ring_similarity:.2f})",
        )
    still = region.hazard_confidence_after
    if still is not None and still > 0 and (cfg.hazard_confidence is None or still >= cfg.hazard_confidence):
        return Verdict.NOT_RESOLVED, (f"detector still finds the hazard (confidence {still:.2f})",)
    numbers = f"change {region.change:.2f}, difference ratio {region.diff_ratio:.2f}"
    if region.change >= cfg.resolved_change and region.diff_ratio >= cfg.resolved_diff_ratio:
        return Verdict.RESOLVED, (f"hazard region changed while its surroundings did not ({numbers})",)
    if region.change <= cfg.unchanged_change and region.diff_ratio <= cfg.unchanged_diff_ratio:
        return Verdict.NOT_RESOLVED, (f"hazard region looks unchanged ({numbers})",)
    return Verdict.NEEDS_REINSPECTION, (f"hazard region change is ambiguous ({numbers})",)


def _mean_abs_difference(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    channels = 1 if a.ndim == 2 else a.shape[2]
    return float(sum(cv2.mean(cv2.absdiff(a, b))[:channels]) / channels)  # no int16 copies of 2 photos


def _check_image(image: npt.NDArray[np.uint8], name: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise MatchingError(f"{name} photo must be a uint8 gray or BGR array")
    if image.ndim == 3 and image.shape[2] != 3:
        raise MatchingError(f"{name} photo must have 3 channels (BGR), got {image.shape[2]}")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise MatchingError(
            f"{name} photo is too small to verify ({width}x{height}; need at least {MIN_SIDE} px a side)"
        )


def _check_box(box: Box, shape: tuple[int, ...]) -> Box:
    height, width = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(np.isfinite([x1, y1, x2, y2])) or x2 <= x1 or y2 <= y1:
        raise MatchingError(f"hazard box {box} is not a valid x1,y1,x2,y2 box")
    cx1, cy1, cx2, cy2 = max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)
    if cx2 - cx1 < 4 or cy2 - cy1 < 4:
        raise MatchingError(f"hazard box {box} lies outside the {width}x{height} before photo")
    if (cx2 - cx1) * (cy2 - cy1) < 0.8 * (x2 - x1) * (y2 - y1):
        raise MatchingError(f"hazard box {box} lies mostly outside the {width}x{height} before photo")
    return (cx1, cy1, cx2, cy2)
