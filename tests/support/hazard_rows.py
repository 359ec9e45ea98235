"""A hazard's event and evidence rows read back as tuples, for tests to compare with hand-written ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflow.persistence.orm import EvidenceObjectRow, EvidenceRow, HazardEventRow, HazardRow
from workflow.services.context import WorkflowContext

# action, from, to, actor id, actor name, actor role, at, reason
Event = tuple[str, str | None, str, int | None, str, str, datetime, str | None]
# seq, kind, object keys (JSON), payload, created by, at
Evidence = tuple[int, str, str, str | None, str, datetime]


def events_of(ctx: WorkflowContext, hid: int) -> list[Event]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(HazardEventRow).where(HazardEventRow.hazard_id == hid).order_by(HazardEventRow.id)
        )
        return [
            (r.action, r.from_state, r.to_state, r.actor_id, r.actor_name, r.actor_role, r.at, r.reason)
            for r in rows
        ]


def evidence_of(ctx: WorkflowContext, hid: int) -> list[Evidence]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(EvidenceRow).where(EvidenceRow.hazard_id == hid).order_by(EvidenceRow.seq)
        )
        return [(r.seq, r.kind, r.object_keys, r.payload, r.created_by, r.at) for r in rows]


def evidence_observations(ctx: WorkflowContext, hid: int) -> list[str | None]:
    """The observation id of each evidence item, in order."""
    with ctx.uow() as uow:
        return list(
            uow.session.scalars(
                select(EvidenceRow.observation_id)
                .where(EvidenceRow.hazard_id == hid)
                .order_by(EvidenceRow.seq)
            )
        )


def indexed_keys(ctx: WorkflowContext) -> list[tuple[int, str]]:
    """Every (hazard id, object key) of the evidence key index, sorted."""
    with ctx.uow() as uow:
        rows = uow.session.execute(select(EvidenceObjectRow.hazard_id, EvidenceObjectRow.key))
        return sorted((int(h), str(k)) for h, k in rows)


def stored_hazard(ctx: WorkflowContext, hid: int) -> HazardRow:
    with ctx.uow() as uow:
        row = uow.session.get(HazardRow, hid)
        assert row is not None
        uow.session.expunge(row)
        return row
