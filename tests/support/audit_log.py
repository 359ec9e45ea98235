"""The audit entries a use case appended, read back for tests to compare with hand-written ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflow.persistence.orm import AuditRow
from workflow.services.context import WorkflowContext

AuditEntry = tuple[datetime, str, str, str, str, str]  # at, actor, action, entity, entity_id, payload


def audit_after(ctx: WorkflowContext, seq: int) -> list[AuditEntry]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(AuditRow).where(AuditRow.seq > seq).order_by(AuditRow.seq))
        return [(r.at, r.actor, r.action, r.entity, r.entity_id, r.payload) for r in rows]


def last_audit_seq(ctx: WorkflowContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(AuditRow.seq).order_by(AuditRow.seq.desc()).limit(1)) or 0)
