"""Zones: id, name, area, and whether (and which) permits are required there."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput
from workflow.domain.permits import PermitType
from workflow.domain.roles import Actor
from workflow.persistence.orm import ZoneRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    area: str
    permit_kinds: frozenset[PermitType] = frozenset()

    @property
    def permit_required(self) -> bool:
        return bool(self.permit_kinds)


def zone_of(row: ZoneRow) -> Zone:
    kinds = frozenset(PermitType(k) for k in row.permit_kinds.split(",") if k)
    return Zone(row.id, row.name, row.area, kinds)


def _attempt_upsert_zone(ctx: WorkflowContext, zone: Zone, actor: Actor) -> Zone:
    if not zone.id or not zone.area:
        raise InvalidInput("zone id and area are required")
    now = ctx.clock.now()
    kinds = ",".join(sorted(k.value for k in zone.permit_kinds))
    with ctx.uow() as uow:
        row = uow.session.get(ZoneRow, zone.id)
        if row is None:
            row = ZoneRow(id=zone.id)
            uow.session.add(row)
        row.name, row.area, row.permit_required, row.permit_kinds = (
            zone.name,
            zone.area,
            zone.permit_required,
            kinds,
        )
        uow.repo.append_audit(
            now, actor.name, "zone.upsert", "zone", zone.id, canonical_payload({"kinds": kinds})
        )
        uow.commit()
        return zone_of(row)


upsert_zone = retry_races(_attempt_upsert_zone)
