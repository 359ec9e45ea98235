"""Read models handed to the serving layer (frozen; built from rows inside the transaction)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from workflow.domain.evidence import EvidenceKind
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import SourceKind
from workflow.persistence.orm import EvidenceRow, HazardEventRow, HazardRow


@dataclass(frozen=True, slots=True)
class HazardView:
    id: int
    kind: str
    zone: str
    area: str
    equipment_id: str | None
    source_kind: SourceKind
    source_id: str
    state: HazardState
    level: RiskLevel
    likelihood: int
    severity: int
    escalation_level: int
    repeat_flag: bool
    description: str | None
    discovered_at: datetime
    respond_by: datetime
    fix_by: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    evidence_count: int
    reopen_count: int
    version: int

    @classmethod
    def of(cls, r: HazardRow) -> HazardView:
        return cls(
            r.id,
            r.kind,
            r.zone,
            r.area,
            r.equipment_id,
            SourceKind(r.source_kind),
            r.source_id,
            HazardState(r.state),
            RiskLevel(r.level),
            r.likelihood,
            r.severity,
            r.escalation_level,
            r.repeat_flag,
            r.description,
            r.discovered_at,
            r.respond_by,
            r.fix_by,
            r.last_seen_at,
            r.closed_at,
            r.evidence_count,
            r.reopen_count,
            r.version,
        )


@dataclass(frozen=True, slots=True)
class EvidenceView:
    id: int
    hazard_id: int
    seq: int
    kind: EvidenceKind
    object_keys: tuple[str, ...]
    payload: str | None
    created_by: str
    at: datetime

    @classmethod
    def of(cls, r: EvidenceRow) -> EvidenceView:
        keys = tuple(str(k) for k in json.loads(r.object_keys))
        return cls(r.id, r.hazard_id, r.seq, EvidenceKind(r.kind), keys, r.payload, r.created_by, r.at)


@dataclass(frozen=True, slots=True)
class EventView:
    action: str
    from_state: HazardState | None
    to_state: HazardState
    actor_name: str
    actor_role: str
    at: datetime
    reason: str | None

    @classmethod
    def of(cls, r: HazardEventRow) -> EventView:
        src = HazardState(r.from_state) if r.from_state else None
        return cls(r.action, src, HazardState(r.to_state), r.actor_name, r.actor_role, r.at, r.reason)


@dataclass(frozen=True, slots=True)
class HazardDetail:
    hazard: HazardView
    evidence: tuple[EvidenceView, ...]
    events: tuple[EventView, ...]
