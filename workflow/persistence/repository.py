"""Repository: the only code that reads and writes rows. Evidence and audit are append-only here."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, func, insert, inspect, literal, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.domain.audit import GENESIS_HASH, AuditEntry, entry_hash
from workflow.domain.errors import NotFound, StaleWrite
from workflow.domain.lifecycle import OPEN_STATES, UNFIXED_STATES
from workflow.persistence.orm import (
    AuditHeadRow,
    AuditRow,
    Base,
    EvidenceObjectRow,
    EvidenceRow,
    HazardEventRow,
    HazardRow,
    ObservationRow,
    ZoneRow,
)

_OPEN = [s.value for s in OPEN_STATES]
_UNFIXED = [s.value for s in UNFIXED_STATES]
_HEAD_ID = 1


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # The audit head, locked (SELECT ... FOR UPDATE) at the first append of this transaction; the lock
        # holds until commit, so later appends reuse it instead of re-reading (one round trip each).
        self._head: AuditHeadRow | None = None
        self._deferred_audit: list[AuditRow] = []

    def transaction_ended(self) -> None:
        self._head = None
        self._deferred_audit.clear()

    # bulk writes (batched intake) --------------------------------------------------------------
    def insert_rows(self, rows: Sequence[Base]) -> None:
        """Insert new rows of one table in one executemany, without reading anything back: for append-only
        rows nobody reads in the same transaction (observations, evidence, events, audit)."""
        if not rows:
            return
        model = type(rows[0])
        mapper = inspect(model)
        pk = {c.key for c in mapper.primary_key}
        keys = [a.key for a in mapper.column_attrs]
        params = [
            {k: v for k in keys if (v := getattr(r, k)) is not None or k not in pk}  # db assigns a None pk
            for r in rows
        ]
        # render_nulls: a None is written as NULL instead of splitting the rows into per-key-set groups
        self.session.execute(insert(model).execution_options(render_nulls=True), params)

    def bump_hazards(self, bumps: Sequence[tuple[HazardRow, int, datetime]]) -> None:
        """New (evidence count, last seen) for several stored hazards: one executemany UPDATE with the same
        optimistic lock as a flush (``WHERE version = seen``); any row changed meanwhile → conflict."""
        if not bumps:
            return
        self.session.flush()  # pending edits of these rows go first, under the version they were read at
        table = cast(Table, HazardRow.__table__)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values(
                evidence_count=bindparam("b_count"),
                last_seen_at=bindparam("b_seen"),
                version=bindparam("b_next"),
            )
        )
        params = [
            {"b_id": r.id, "b_version": r.version, "b_count": n, "b_seen": seen, "b_next": r.version + 1}
            for r, n, seen in bumps
        ]
        if self.session.execute(stmt, params).rowcount != len(params):  # type: ignore[attr-defined]
            raise StaleWrite("a hazard was changed by someone else; reload and retry")
        for row, n, seen in bumps:  # the session's copies now match the database, with nothing pending
            set_committed_value(row, "evidence_count", n)
            set_committed_value(row, "last_seen_at", seen)
            set_committed_value(row, "version", row.version + 1)

    # hazards -----------------------------------------------------------------------------------
    def hazard(self, hazard_id: int) -> HazardRow:
        row = self.session.get(HazardRow, hazard_id)
        if row is None:
            raise NotFound(f"hazard {hazard_id} does not exist")
        return row

    def open_hazards_for(self, dedup_keys: Collection[str]) -> dict[str, HazardRow]:
        """Per de-dup key, the open hazard seen last (one query for a whole batch)."""
        if not dedup_keys:
            return {}
        stmt = select(HazardRow).where(HazardRow.dedup_key.in_(dedup_keys), HazardRow.state.in_(_OPEN))
        latest: dict[str, HazardRow] = {}
        for row in self.session.scalars(stmt):
            held = latest.get(row.dedup_key)
            if held is None or (row.last_seen_at, row.id) > (held.last_seen_at, held.id):
                latest[row.dedup_key] = row
        return latest

    def closed_hazards_at_equipment(
        self, pairs: Collection[tuple[str, str]], since: datetime
    ) -> dict[tuple[str, str], list[HazardRow]]:
        """Per (kind, equipment id), hazards closed since ``since``, most recently closed first."""
        if not pairs:
            return {}
        stmt = select(HazardRow).where(
            HazardRow.kind.in_({k for k, _ in pairs}),
            HazardRow.equipment_id.in_({e for _, e in pairs}),
            HazardRow.state == "closed",
            HazardRow.closed_at >= since,
        )
        found: dict[tuple[str, str], list[HazardRow]] = defaultdict(list)
        for row in self.session.scalars(stmt):
            pair = (row.kind, row.equipment_id or "")
            if pair in pairs:
                found[pair].append(row)
        for rows in found.values():
            rows.sort(key=lambda r: (r.closed_at, r.id), reverse=True)
        return found

    def repeat_counts_many(self, probes: Sequence[tuple[str, datetime]]) -> list[tuple[int, int]]:
        """(unresolved hazards, hazards discovered since ``since``) per (repeat key, since) probe: one
        statement for the whole batch, results in probe order."""
        if not probes:
            return []
        selects = [
            select(
                literal(i).label("i"),
                func.count(case((HazardRow.state.in_(_UNFIXED), 1))).label("unresolved"),
                func.count(case((HazardRow.discovered_at >= since, 1))).label("in_window"),
            ).where(HazardRow.repeat_key == key)
            for i, (key, since) in enumerate(probes)
        ]
        stmt = selects[0] if len(selects) == 1 else union_all(*selects)
        counts = {int(i): (int(u or 0), int(w or 0)) for i, u, w in self.session.execute(stmt)}
        return [counts[i] for i in range(len(probes))]

    def add_hazards(self, rows: Sequence[HazardRow]) -> None:
        """Insert several hazards in one flush (ids are assigned on return)."""
        self.session.add_all(rows)
        self.session.flush()

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
        row = self.new_evidence(
            hazard.id, hazard.evidence_count, kind, object_keys, created_by, at, payload, observation_id
        )
        self.session.add(row)
        self.session.add_all(self.object_refs(hazard.id, object_keys))
        return row

    @staticmethod
    def object_refs(hazard_id: int, object_keys: Sequence[str]) -> list[EvidenceObjectRow]:
        """The key index rows of new evidence (written in the same transaction as the evidence)."""
        return [EvidenceObjectRow(key=key, hazard_id=hazard_id) for key in object_keys]

    @staticmethod
    def new_evidence(
        hazard_id: int,
        seq: int,
        kind: str,
        object_keys: Sequence[str],
        created_by: str,
        at: datetime,
        payload: str | None = None,
        observation_id: str | None = None,
    ) -> EvidenceRow:
        """An evidence row (not yet added): ``seq`` is already counted into ``hazard.evidence_count``."""
        return EvidenceRow(
            hazard_id=hazard_id,
            seq=seq,
            kind=kind,
            object_keys=json.dumps(list(object_keys)),
            payload=payload,
            observation_id=observation_id,
            created_by=created_by,
            at=at,
        )

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
    def known_observations(self, observation_ids: Collection[str]) -> dict[str, int | None]:
        """observation id → its hazard id, for the ids already stored (the batch idempotency check)."""
        if not observation_ids:
            return {}
        stmt = select(ObservationRow.observation_id, ObservationRow.hazard_id).where(
            ObservationRow.observation_id.in_(observation_ids)
        )
        return {row[0]: row[1] for row in self.session.execute(stmt)}

    # zones -------------------------------------------------------------------------------------
    def zone_areas(self, zone_ids: Collection[str]) -> dict[str, str]:
        if not zone_ids:
            return {}
        stmt = select(ZoneRow.id, ZoneRow.area).where(ZoneRow.id.in_(zone_ids))
        return {row[0]: row[1] for row in self.session.execute(stmt)}

    # audit (append-only, hash-chained) ---------------------------------------------------------
    def append_audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        payload: str,
        *,
        defer: bool = False,
    ) -> None:
        """Chain the entry now; ``defer`` holds its row back for ``write_deferred_audit`` (one insert)."""
        head = self._head
        if head is None:
            with self.session.no_autoflush:  # pending rows can wait for the commit's single flush
                self._lock_audit_head()
                head = self.session.get(AuditHeadRow, _HEAD_ID, with_for_update=True, populate_existing=True)
            if head is None:
                head = AuditHeadRow(id=_HEAD_ID, seq=0, hash=GENESIS_HASH)
                self.session.add(head)
            self._head = head
        seq = head.seq + 1
        digest = entry_hash(seq, at, actor, action, entity, entity_id, payload, head.hash)
        row = AuditRow(
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
        if defer:
            self._deferred_audit.append(row)
        else:
            self.session.add(row)
        head.seq, head.hash = seq, digest

    def begin_write(self) -> None:
        """Make the reads that follow current for a read-modify-write. PostgreSQL locks the rows read
        with FOR UPDATE; SQLite ignores FOR UPDATE and its driver reads outside a transaction until the
        first write, so two writers would read the same state. A no-op write first takes SQLite's write
        lock: the reads after it are the latest, and the other writer waits (busy_timeout)."""
        self._lock_audit_head()

    def _lock_audit_head(self) -> None:
        # PostgreSQL serialises audit writers on the head row (FOR UPDATE); SQLite: see begin_write.
        if self.session.get_bind().dialect.name == "sqlite":
            self.session.execute(
                update(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).values(seq=AuditHeadRow.seq)
            )

    def write_deferred_audit(self) -> None:
        self.insert_rows(self._deferred_audit)
        self._deferred_audit.clear()

    def audit_entries(self) -> tuple[list[AuditEntry], int, str]:
        rows = self.session.scalars(select(AuditRow).order_by(AuditRow.seq))
        entries = [
            AuditEntry(r.seq, r.at, r.actor, r.action, r.entity, r.entity_id, r.payload, r.prev_hash, r.hash)
            for r in rows
        ]
        head = self.session.get(AuditHeadRow, _HEAD_ID)
        return entries, (head.seq if head else 0), (head.hash if head else GENESIS_HASH)
