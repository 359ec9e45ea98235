"""``/api/v1/permits``: permits-to-work (动火/受限空间/高处作业): request, two-person approval, suspend."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.params import PlausibleDatetime, RowId
from serving.bootstrap import Container
from workflow.domain.errors import NotFound
from workflow.domain.permits import PermitRequest, PermitStatus, PermitType
from workflow.domain.roles import Actor, Role
from workflow.persistence.orm import PermitRow
from workflow.services.context import WorkflowContext
from workflow.services.permits import approve_permit, request_permit, suspend_permit

router = APIRouter(prefix="/api/v1/permits", tags=["permits"])


class PermitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: PermitType
    zone: str = Field(min_length=1, max_length=64)
    valid_from: PlausibleDatetime
    valid_to: PlausibleDatetime
    # People the work needs on site: the worker(s) plus the watcher (监护人) when one is required.
    min_people: int = Field(default=2, ge=1, le=100)
    # The crew named on the permit: more people seen in the zone raise an alert. Omitted: no upper limit.
    max_people: int | None = Field(default=None, ge=1, le=100)
    watcher_required: bool = True
    description: str = Field(default="", max_length=2000)


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class PermitOut(BaseModel):
    id: int
    type: PermitType
    zone: str
    valid_from: datetime
    valid_to: datetime
    status: PermitStatus
    min_people: int
    max_people: int | None
    watcher_required: bool
    description: str
    approvals: int
    suspend_reason: str | None

    @classmethod
    def of(cls, r: PermitRow) -> PermitOut:
        return cls(
            id=r.id,
            type=PermitType(r.permit_type),
            zone=r.zone,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            status=PermitStatus(r.status),
            min_people=r.min_people,
            max_people=r.max_people,
            watcher_required=r.watcher_required,
            description=r.description,
            approvals=len([a for a in r.approvals.split(",") if a]),
            suspend_reason=r.suspend_reason,
        )


def _read(ctx: WorkflowContext, permit_id: int) -> PermitOut:
    with ctx.uow() as uow:
        row = uow.session.get(PermitRow, permit_id)
        if row is None:
            raise NotFound(f"permit {permit_id} does not exist")
        return PermitOut.of(row)


@router.get("", response_model=list[PermitOut], responses=error_responses(422))
def list_permits(
    zone: str | None = Query(None, max_length=64),
    state: PermitStatus | None = Query(None),
    limit: int = Query(100, ge=1, le=500),
    _actor: Actor = Depends(current_actor),
    container: Container = Depends(container_of),
) -> list[PermitOut]:
    """Newest first; ``state`` filters by status (pending, active, suspended)."""
    stmt = select(PermitRow).order_by(PermitRow.id.desc()).limit(limit)
    if zone is not None:
        stmt = stmt.where(PermitRow.zone == zone)
    if state is not None:
        stmt = stmt.where(PermitRow.status == state.value)
    with container.workflow.uow() as uow:
        return [PermitOut.of(r) for r in uow.session.scalars(stmt)]


@router.post("", response_model=PermitOut, status_code=201, responses=error_responses(403, 404, 422))
def create_permit(
    body: PermitIn,
    actor: Actor = Depends(require_roles(Role.INSPECTOR, Role.RECTIFIER, Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> PermitOut:
    """Request a permit (pending until two approvers other than the requester approve it)."""
    request = PermitRequest(
        permit_type=body.type,
        zone=body.zone,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        min_people=body.min_people,
        max_people=body.max_people,
        watcher_required=body.watcher_required,
        description=body.description,
    )
    view = request_permit(container.workflow, request, actor)
    return _read(container.workflow, view.permit_id)


@router.get("/{permit_id}", response_model=PermitOut, responses=error_responses(404, 422))
def get_permit(
    permit_id: RowId, _actor: Actor = Depends(current_actor), container: Container = Depends(container_of)
) -> PermitOut:
    return _read(container.workflow, permit_id)


@router.post("/{permit_id}/approve", response_model=PermitOut, responses=error_responses(403, 404, 422))
def approve(
    permit_id: RowId,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> PermitOut:
    """One approval; the second distinct approval activates the permit."""
    approve_permit(container.workflow, permit_id, actor)
    return _read(container.workflow, permit_id)


@router.post("/{permit_id}/suspend", response_model=PermitOut, responses=error_responses(403, 404, 422))
def suspend(
    permit_id: RowId,
    body: SuspendIn,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> PermitOut:
    suspend_permit(container.workflow, permit_id, actor, body.reason)
    return _read(container.workflow, permit_id)
