"""``/api/v1/audit``: the tamper-evident audit log (newest first) and its chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from serving.api.auth import current_actor
from serving.api.errors import error_responses as errors
from serving.api.params import Offset
from serving.bootstrap import Container
from workflow.domain.roles import Actor
from workflow.persistence.orm import AuditRow
from workflow.services.audit import verify_audit_chain

MAX_PAGE = 500


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    payload: str
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad: int | None
    message: str


router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPageOut, responses=errors(422))
def list_audit(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Offset = 0,
    _actor: Actor = Depends(current_actor),
) -> AuditPageOut:
    """Audit entries, newest first (a read-only page; the workflow writes them)."""
    container: Container = request.app.state.container
    with container.workflow.uow() as uow:
        stmt = select(AuditRow).order_by(AuditRow.seq.desc()).offset(offset).limit(limit)
        items = [
            AuditEntryOut(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                payload=r.payload,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in uow.session.scalars(stmt)
        ]
        total = int(uow.session.scalar(select(func.count()).select_from(AuditRow)) or 0)
    return AuditPageOut(items=items, total=total, limit=limit, offset=offset)


@router.get("/verify", response_model=AuditVerifyOut, responses=errors())
def verify_audit(request: Request, _actor: Actor = Depends(current_actor)) -> AuditVerifyOut:
    """Re-hash the whole chain: ``ok`` false names the first entry that was edited, removed or cut off."""
    container: Container = request.app.state.container
    result = verify_audit_chain(container.workflow)
    message = result.reason or f"{result.checked} entries verified"
    return AuditVerifyOut(
        ok=result.ok, checked=result.checked, first_bad=result.first_bad_seq, message=message
    )
