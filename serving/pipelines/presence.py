"""Zone polygons and the permit presence check: who is where in a snapshot, and is it permitted.

People are counted per zone polygon (the centre of each head/helmet/person box decides the zone;
outside every polygon means the camera's own zone). Each zone with people in it goes through the
workflow's ``presence_check``: no valid permit → hazard; understaffed (no watcher) or more people than the
permits' crews → alert on the bus.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cameras.config import ZonePolygon
from serving.bus.messages import Alert
from serving.bus.port import AlertBus
from serving.pipelines.detection import ImageAnalysis
from serving.settings import VisionSettings
from vision.ppe import workers
from workflow.domain.errors import NotFound
from workflow.domain.permits import PresenceCheck
from workflow.services.camera_inspections import ZonePpe
from workflow.services.context import WorkflowContext
from workflow.services.permits import STAFFING_ALERTS, PresenceOutcome, presence_check, staffing_alert_kind

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
STAFFING_ALERT_LEVEL = 2


def inside(point: tuple[float, float], polygon: ZonePolygon) -> bool:
    """Even-odd ray casting; a point exactly on an edge may fall either way (boxes are not that exact)."""
    x, y = point
    result = False
    pts = polygon.points
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def zone_of_box(box: Box, polygons: Iterable[ZonePolygon], default_zone: str) -> str:
    centre = ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
    return next((polygon.name for polygon in polygons if inside(centre, polygon)), default_zone)


def people_per_zone(
    analysis: ImageAnalysis, polygons: tuple[ZonePolygon, ...], default_zone: str
) -> dict[str, int]:
    """People per zone from the model run that sees the most people (as ``ImageAnalysis.people``)."""
    best: dict[str, int] = {}
    for run in analysis.runs:
        counts: dict[str, int] = {}
        for worker in workers(run.detections):
            box = worker.head_box or worker.person_box
            if box is not None:
                zone = zone_of_box(box, polygons, default_zone)
                counts[zone] = counts.get(zone, 0) + 1
        if sum(counts.values()) > sum(best.values()):
            best = counts
    return best


def helmet_tally(
    vision: VisionSettings, analysis: ImageAnalysis, polygons: tuple[ZonePolygon, ...], default_zone: str
) -> tuple[ZonePpe, ...]:
    """People with and without a helmet per zone of one frame, for the PPE compliance KPI (from the run
    that sees the most people, as ``people_per_zone``). Zones that do not demand a helmet are left out,
    and so are people whose head is not seen."""
    best: dict[str, list[int]] = {}
    for run in analysis.runs:
        counts: dict[str, list[int]] = {}
        for worker in workers(run.detections):
            if worker.head_box is None or worker.wearing_helmet is None:
                continue
            zone = zone_of_box(worker.head_box, polygons, default_zone)
            if vision.ppe_for(zone).helmet:
                counts.setdefault(zone, [0, 0])[0 if worker.wearing_helmet else 1] += 1
        if sum(map(sum, counts.values())) > sum(map(sum, best.values())):
            best = counts
    return tuple(ZonePpe(zone, ok, bare) for zone, (ok, bare) in sorted(best.items()))


@dataclass(frozen=True, slots=True)
class ZonePresence:
    zone: str
    people: int
    outcome: PresenceOutcome


def observation_id(*parts: str) -> str:
    """A readable, deterministic observation id (retries repeat it); hashed when over the 128 limit."""
    text = ":".join(parts)
    return text if len(text) <= 128 else f"{parts[0]}:{hashlib.sha256(text.encode()).hexdigest()}"


class PresenceChecker:
    """Runs the permit check per zone, at most once per ``cooldown_s`` per zone in this process, so a
    camera polled every few seconds does not raise a staffing alert on every frame."""

    def __init__(
        self,
        ctx: WorkflowContext,
        bus: AlertBus,
        *,
        cooldown_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ctx, self._bus, self._cooldown_s, self._clock = ctx, bus, cooldown_s, clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def _due(self, zone: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(zone)
            if last is not None and now - last < self._cooldown_s:
                return False
            self._last[zone] = now
            return True

    def check(
        self, camera_id: str, at: datetime, counts: Mapping[str, int], evidence_keys: tuple[str, ...]
    ) -> list[ZonePresence]:
        done: list[ZonePresence] = []
        for zone, people in sorted(counts.items()):
            if people <= 0 or not self._due(zone):
                continue
            check = PresenceCheck(zone=zone, at=at, people_count=people, camera_id=camera_id)
            try:
                outcome = presence_check(
                    self._ctx,
                    check,
                    observation_id("presence", camera_id, at.isoformat(), zone),
                    evidence_keys,
                )
            except NotFound:
                log.debug("zone %s is not defined; presence check skipped", zone)
                continue
            if outcome.result.verdict in STAFFING_ALERTS and outcome.alert_id is not None:
                self._bus.publish_alert(
                    Alert(
                        alert_id=str(outcome.alert_id),
                        kind=staffing_alert_kind(outcome.result.verdict),
                        level=STAFFING_ALERT_LEVEL,
                        message=outcome.result.reason,
                        created_at=at,
                        zone=zone,
                    )
                )
            done.append(ZonePresence(zone, people, outcome))
        return done
