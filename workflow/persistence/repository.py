"""Repository: the only code that reads and writes rows. Evidence and audit are append-only here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.domain.audit import GENESIS_HASH, AuditEntry, entry_hash
from workflow.domain.errors import NotFound
from workflow.domain.lifecycle import OPEN_STATES, UNFIXED_STATES
from workflow.persistence.orm import (
    AuditHeadRow,
    AuditRow,
    EvidenceRow,
    HazardEventRow,
    HazardRow,
    ObservationRow,
)

_OPEN = [s.value for s in OPEN_STATES]
_HEAD_ID = 1


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # hazards -----------------------------------------------------------------------------------
    def hazard(self, hazard_id: int) -> HazardRow:
        row = self.session.get(HazardRow, hazard_id)
        if row is None:
            raise NotFound(f"hazard {hazard_id} does not exist")
        return row

    def open_hazard_for(self, dedup_key: str) -> HazardRow | None:
        stmt = (
            select(HazardRow)
            .where(HazardRow.dedup_key == dedup_key, HazardRow.state.in_(_OPEN))
            .order_by(HazardRow.last_seen_at.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def closed_hazard_at_equipment(self, kind: str, equipment_id: str, since: datetime) -> HazardRow | None:
        stmt = (
            select(HazardRow)
            .where(
                HazardRow.kind == kind,
                HazardRow.equipment_id == equipment_id,
                HazardRow.state == "closed",
                HazardRow.closed_at >= since,
            )
            .order_by(HazardRow.closed_at.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def repeat_counts(self, repeat_key: str, since: datetime) -> tuple[int, int]:
        unresolved = self.session.scalar(
            select(func.count()).where(
                HazardRow.repeat_key == repeat_key, HazardRow.state.in_([s.value for s in UNFIXED_STATES])
            )
        )
        in_window = self.session.scalar(
            select(func.count()).where(HazardRow.repeat_key == repeat_key, HazardRow.discovered_at >= since)
        )
        return int(unresolved or 0), int(in_window or 0)

    def add_hazard(self, row: HazardRow) -> HazardRow:
        self.session.add(row)
        self.session.flush()
        return row

    def add_event(self, row: HazardEventRow) -> None:
        self.session.add(row)

    # evidence (append-only) --------------------------------------------------------------------
    def append_evidence(
        self,
        hazard: HazardRow,
        kind: str,
        object_keys: Sequence[str],
        created_by: str,
        at: datetime,
        payload: str | None = None,
        observation_id: str | None = None,
    ) -> EvidenceRow:
        hazard.evidence_count += 1
        row = EvidenceRow(
            hazard_id=hazard.id,
            seq=hazard.evidence_count,
            kind=kind,
            object_keys=json.dumps(list(object_keys)),
            payload=payload,
            observation_id=observation_id,
            created_by=created_by,
            at=at,
        )
        self.session.add(row)
        return row

    def evidence(self, hazard_id: int) -> list[EvidenceRow]:
        stmt = select(EvidenceRow).where(EvidenceRow.hazard_id == hazard_id).order_by(EvidenceRow.seq)
        return list(self.session.scalars(stmt))

    def latest_evidence(self, hazard_id: int, kind: str) -> EvidenceRow | None:
        stmt = (
            select(EvidenceRow)
            .where(EvidenceRow.hazard_id == hazard_id, EvidenceRow.kind == kind)
            .order_by(EvidenceRow.seq.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def events(self, hazard_id: int) -> list[HazardEventRow]:
        stmt = select(HazardEventRow).where(HazardEventRow.hazard_id == hazard_id).order_by(HazardEventRow.id)
        return list(self.session.scalars(stmt))

    # observations ------------------------------------------------------------------------------
    def observation(self, observation_id: str) -> ObservationRow | None:
        return self.session.get(ObservationRow, observation_id)

    def add_observation(self, row: ObservationRow) -> None:
        self.session.add(row)

    # audit (append-only, hash-chained) ---------------------------------------------------------
    def append_audit(
        self, at: datetime, actor: str, action: str, entity: str, entity_id: str, payload: str
    ) -> None:
        head = self.session.get(AuditHeadRow, _HEAD_ID, with_for_update=True)
        if head is None:
            head = AuditHeadRow(id=_HEAD_ID, seq=0, hash=GENESIS_HASH)
            self.session.add(head)
        seq = head.seq + 1
        digest = entry_hash(seq, at, actor, action, entity, entity_id, payload, head.hash)
        self.session.add(
            AuditRow(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                payload=payload,
                prev_hash=head.hash,
                hash=digest,
            )
        )
        head.seq, head.hash = seq, digest

    def audit_entries(self) -> tuple[list[AuditEntry], int, str]:
        rows = self.session.scalars(select(AuditRow).order_by(AuditRow.seq))
        entries = [
            AuditEntry(r.seq, r.at, r.actor, r.action, r.entity, r.entity_id, r.payload, r.prev_hash, r.hash)
            for r in rows
        ]
        head = self.session.get(AuditHeadRow, _HEAD_ID)
        return entries, (head.seq if head else 0), (head.hash if head else GENESIS_HASH)
