"""``/api/v1/zones``: plant zones (area, which permits-to-work they require)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.routes.ops_common import ID_PATTERN
from serving.bootstrap import Container
from workflow.domain.permits import PermitType
from workflow.domain.roles import Actor, Role
from workflow.persistence.orm import ZoneRow
from workflow.services.zones import Zone, upsert_zone, zone_of

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    area: str = Field(min_length=1, max_length=100)
    permit_kinds: list[PermitType] = Field(default_factory=list, max_length=len(PermitType))


class ZoneOut(BaseModel):
    id: str
    name: str
    area: str
    permit_required: bool
    permit_kinds: list[PermitType]

    @classmethod
    def of(cls, zone: Zone) -> ZoneOut:
        return cls(
            id=zone.id,
            name=zone.name,
            area=zone.area,
            permit_required=zone.permit_required,
            permit_kinds=sorted(zone.permit_kinds),
        )


@router.get("", response_model=list[ZoneOut], responses=error_responses())
def list_zones(
    _actor: Actor = Depends(current_actor), container: Container = Depends(container_of)
) -> list[ZoneOut]:
    # Read-only listing; there is no list use case in workflow.services.zones yet.
    with container.workflow.uow() as uow:
        rows = uow.session.scalars(select(ZoneRow).order_by(ZoneRow.id))
        return [ZoneOut.of(zone_of(row)) for row in rows]


@router.put("/{zone_id}", response_model=ZoneOut, responses=error_responses(403, 422))
def put_zone(
    zone_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: ZoneIn,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> ZoneOut:
    """Create or update a zone (safety engineer)."""
    zone = Zone(zone_id, body.name, body.area, frozenset(body.permit_kinds))
    return ZoneOut.of(upsert_zone(container.workflow, zone, actor))
