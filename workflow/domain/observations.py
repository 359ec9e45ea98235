"""Observations: the one typed input that turns camera/photo/sensor/manual findings into hazards."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from workflow.domain.clock import require_aware
from workflow.domain.errors import ClockSkew, InvalidInput

_KIND = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
# Observations of this kind only count towards PPE compliance (one per compliant person); no hazard.
PPE_OK_KIND = "ppe.ok"


class SourceKind(StrEnum):
    CAMERA = "camera"
    PHOTO = "photo"
    SENSOR = "sensor"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Observation:
    """One finding. ``observation_id`` is the idempotency key (a retried upload sends the same id).

    ``evidence_keys`` are opaque object-store keys; the workflow stores them and never reads them.
    ``box`` is x1, y1, x2, y2 in pixels of the evidence image, when there is one.
    """

    observation_id: str
    kind: str
    confidence: float
    zone: str
    source_kind: SourceKind
    source_id: str
    observed_at: datetime
    evidence_keys: tuple[str, ...] = ()
    equipment_id: str | None = None
    area: str | None = None
    box: tuple[float, float, float, float] | None = None
    description: str | None = None
    reported_by: str | None = None
    likelihood: int | None = None
    severity: int | None = None

    def __post_init__(self) -> None:
        if not self.observation_id or len(self.observation_id) > 128:
            raise InvalidInput("observation_id must be 1–128 characters")
        if not _KIND.match(self.kind):
            raise InvalidInput(
                f"observation kind {self.kind!r} must look like 'family.name' (e.g. ppe.no_helmet)"
            )
        if not isinstance(self.confidence, int | float) or not math.isfinite(self.confidence):
            raise InvalidInput(f"confidence must be a finite number, got {self.confidence!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise InvalidInput(f"confidence must be within 0–1, got {self.confidence}")
        if not self.zone.strip():
            raise InvalidInput("zone must not be empty")
        if not self.source_id.strip():
            raise InvalidInput("source_id must not be empty")
        if self.source_kind not in set(SourceKind):
            raise InvalidInput(
                f"source_kind must be one of {[k.value for k in SourceKind]}, got {self.source_kind!r}"
            )
        object.__setattr__(self, "source_kind", SourceKind(self.source_kind))
        object.__setattr__(self, "observed_at", require_aware(self.observed_at, "observed_at"))
        object.__setattr__(self, "evidence_keys", tuple(self.evidence_keys))
        if any(not k for k in self.evidence_keys):
            raise InvalidInput("evidence keys must not be empty strings")
        if self.box is not None and (
            len(self.box) != 4
            or not all(math.isfinite(v) for v in self.box)
            or self.box[2] < self.box[0]
            or self.box[3] < self.box[1]
        ):
            raise InvalidInput(f"box must be finite x1, y1, x2, y2 with x2 ≥ x1 and y2 ≥ y1, got {self.box}")

    @property
    def family(self) -> str:
        return self.kind.split(".", 1)[0]


class IngestStatus(StrEnum):
    CREATED = "created"
    APPENDED = "appended"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    RECORDED = "recorded"  # counted (e.g. ppe.ok) but opens no hazard


@dataclass(frozen=True, slots=True)
class IngestResult:
    status: IngestStatus
    hazard_id: int | None
    repeat_flagged: bool = False


def check_not_future(moment: datetime, now: datetime, max_skew: timedelta, name: str) -> None:
    """Reject timestamps from a device whose clock runs ahead of ours by more than ``max_skew``."""
    if moment > now + max_skew:
        raise ClockSkew(
            f"{name} {moment.isoformat()} is ahead of the server clock {now.isoformat()} "
            f"by more than {max_skew}"
        )


def dedup_key(obs: Observation) -> str:
    """Findings with the same key merge into one open hazard (30 snapshots → 1 hazard, 30 evidence).

    Fixed sources (camera, sensor) merge per source. Photos and manual reports merge per equipment: the
    same equipment id is the same place. A photo that names no equipment is a place of its own (five
    photos of five scenes in one zone are five hazards, not one); a manual report without equipment
    merges per zone, as an inspector's note about the zone.
    """
    if obs.source_kind in (SourceKind.CAMERA, SourceKind.SENSOR):
        anchor = f"{obs.source_kind.value}:{obs.source_id}"
    elif obs.equipment_id:
        anchor = f"equipment:{obs.equipment_id}"
    elif obs.source_kind is SourceKind.PHOTO:
        anchor = f"photo:{obs.source_id}"
    else:
        anchor = "equipment:-"
    return f"{obs.kind}|{obs.zone}|{anchor}"


def repeat_key(kind: str, equipment_id: str | None, area: str) -> str:
    """Repeats count per kind at one equipment, or per kind in one area when no equipment is known."""
    return f"{kind}|equipment:{equipment_id}" if equipment_id else f"{kind}|area:{area}"
