"""Per-zone PPE requirements (``vision.ppe_zones`` in the settings) applied to camera frames and photos.

A camera frame can span several zones (its polygons): the detectors run once with the union of their
requirements, then each PPE finding is kept only if the zone it lies in demands that PPE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from serving.settings import PpeRequirement, VisionSettings
from vision.detections import Finding
from vision.ppe import NO_HELMET, NO_VEST, ZoneRequirements


def frame_requirements(vision: VisionSettings, zones: Iterable[str]) -> ZoneRequirements:
    """What the rules must look for in an image that covers ``zones``."""
    wanted = [vision.ppe_for(zone) for zone in zones] or [vision.ppe_default]
    return ZoneRequirements(helmet=any(r.helmet for r in wanted), vest=any(r.vest for r in wanted))


def demanded(kind: str, requirement: PpeRequirement) -> bool:
    """False for a PPE finding its zone does not ask for; every other finding (leaks, ...) stands."""
    if kind == NO_HELMET:
        return requirement.helmet
    if kind == NO_VEST:
        return requirement.vest
    return True


def demanded_findings(
    vision: VisionSettings, findings: Sequence[Finding], zone_of: Callable[[Finding], str]
) -> tuple[Finding, ...]:
    """``findings`` that the zone each lies in demands."""
    return tuple(f for f in findings if demanded(f.kind, vision.ppe_for(zone_of(f))))
