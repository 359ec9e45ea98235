"""Permit-to-work use cases: request, two-person approval, suspend, expiry sweep, presence check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput, NotFound, Unauthorised
from workflow.domain.observations import IngestResult, Observation, SourceKind
from workflow.domain.permits import (
    APPROVER_ROLES,
    REQUIRED_APPROVALS,
    PermitRequest,
    PermitStatus,
    PermitType,
    PermitView,
    PresenceCheck,
    PresenceResult,
    PresenceVerdict,
    check_approval,
    check_presence,
)
from workflow.domain.roles import SYSTEM, Actor
from workflow.persistence.orm import AlertRow, PermitRow, ZoneRow
from workflow.services.context import WorkflowContext
from workflow.services.hazards import ingest_in
from workflow.services.races import retry_races
from workflow.services.zones import zone_of


def _view(r: PermitRow) -> PermitView:
    return PermitView(
        r.id,
        PermitType(r.permit_type),
        r.zone,
        r.valid_from,
        r.valid_to,
        PermitStatus(r.status),
        r.min_people,
        r.watcher_required,
        r.max_people,
    )


def _approvals(r: PermitRow) -> tuple[int, ...]:
    return tuple(int(x) for x in r.approvals.split(",") if x)


def _attempt_request_permit(ctx: WorkflowContext, req: PermitRequest, actor: Actor) -> PermitView:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.session.get(ZoneRow, req.zone) is None:
            raise NotFound(f"zone {req.zone} does not exist")
        row = PermitRow(
            permit_type=req.permit_type.value,
            zone=req.zone,
            valid_from=req.valid_from,
            valid_to=req.valid_to,
            status=PermitStatus.PENDING.value,
            min_people=req.min_people,
            max_people=req.max_people,
            watcher_required=req.watcher_required,
            description=req.description,
            requested_by=actor.user_id,
            approvals="",  # pragma: no mutate (the column's default too; stated for the reader)
            created_at=now,
        )
        uow.session.add(row)
        uow.flush()
        uow.repo.append_audit(
            now,
            actor.name,
            "permit.request",
            "permit",
            str(row.id),
            canonical_payload({"type": req.permit_type.value, "zone": req.zone}),
        )
        view = _view(row)
        uow.commit()
        return view


request_permit = retry_races(_attempt_request_permit)


def _attempt_approve_permit(ctx: WorkflowContext, permit_id: int, actor: Actor) -> PermitView:
    """Second distinct approval activates the permit."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = _get(uow.session, permit_id)
        approvals = check_approval(actor, row.requested_by, _approvals(row), PermitStatus(row.status))
        row.approvals = ",".join(str(a) for a in approvals)
        if len(approvals) >= REQUIRED_APPROVALS:
            row.status = PermitStatus.ACTIVE.value
        uow.repo.append_audit(
            now,
            actor.name,
            "permit.approve",
            "permit",
            str(row.id),
            canonical_payload({"approvals": len(approvals), "status": row.status}),
        )
        uow.flush()
        view = _view(row)
        uow.commit()
        return view


approve_permit = retry_races(_attempt_approve_permit)


def _attempt_suspend_permit(ctx: WorkflowContext, permit_id: int, actor: Actor, reason: str) -> PermitView:
    if actor.role not in APPROVER_ROLES:
        raise Unauthorised(f"role {actor.role.value} may not suspend permits")
    if not reason:
        raise InvalidInput("suspending a permit needs a reason")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = _get(uow.session, permit_id)
        row.status, row.suspend_reason = PermitStatus.SUSPENDED.value, reason
        uow.repo.append_audit(
            now, actor.name, "permit.suspend", "permit", str(row.id), canonical_payload({"reason": reason})
        )
        uow.flush()
        view = _view(row)
        uow.commit()
        return view


suspend_permit = retry_races(_attempt_suspend_permit)


def _attempt_expire_sweep(ctx: WorkflowContext) -> list[int]:
    """Auto-suspend every active or pending permit whose validity has ended. Returns their ids."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        stmt = select(PermitRow).where(
            PermitRow.status.in_([PermitStatus.ACTIVE.value, PermitStatus.PENDING.value]),
            PermitRow.valid_to <= now,
        )
        ids = []
        for row in uow.session.scalars(stmt):
            row.status, row.suspend_reason = PermitStatus.SUSPENDED.value, "expired"
            uow.repo.append_audit(
                now, SYSTEM.name, "permit.expire", "permit", str(row.id), canonical_payload({})
            )
            ids.append(row.id)
        uow.commit()
        return ids


expire_sweep = retry_races(_attempt_expire_sweep)


@dataclass(frozen=True, slots=True)
class PresenceOutcome:
    result: PresenceResult
    hazard: IngestResult | None = None  # no valid permit → hazard
    alert_id: int | None = None  # understaffed or overstaffed → alert


STAFFING_ALERTS = frozenset({PresenceVerdict.UNDERSTAFFED, PresenceVerdict.OVERSTAFFED})


def staffing_alert_kind(verdict: PresenceVerdict) -> str:
    return f"permit.{verdict.value}"


def _attempt_presence_check(
    ctx: WorkflowContext, check: PresenceCheck, observation_id: str, evidence_keys: tuple[str, ...] = ()
) -> PresenceOutcome:
    """Judge what the cameras see; ``observation_id`` makes a retried check idempotent."""
    with ctx.uow() as uow:
        zone_row = uow.session.get(ZoneRow, check.zone)
        if zone_row is None:
            raise NotFound(f"zone {check.zone} does not exist")
        # The domain's check_presence filters zone and validity again; these only spare loading rows.
        stmt = select(PermitRow).where(
            PermitRow.zone == check.zone,  # pragma: no mutate
            PermitRow.status == PermitStatus.ACTIVE.value,  # pragma: no mutate
        )
        permits = tuple(_view(r) for r in uow.session.scalars(stmt))
        result = check_presence(check, zone_of(zone_row).permit_kinds, permits)
        outcome = PresenceOutcome(result)
        if result.verdict is PresenceVerdict.NO_VALID_PERMIT:
            obs = Observation(
                observation_id=observation_id,
                kind="permit.no_valid_permit",
                confidence=1.0,
                zone=check.zone,
                source_kind=SourceKind.CAMERA if check.camera_id else SourceKind.MANUAL,
                source_id=check.camera_id or "presence-check",
                observed_at=check.at,
                evidence_keys=evidence_keys,
                description=result.reason,
            )
            outcome = PresenceOutcome(result, hazard=ingest_in(uow, ctx, obs))
        elif result.verdict in STAFFING_ALERTS:
            alert = AlertRow(
                kind=staffing_alert_kind(result.verdict),
                sensor_id=None,  # pragma: no mutate (nullable, no default: NULL either way)
                zone=check.zone,
                tier=None,  # pragma: no mutate
                previous_tier=None,  # pragma: no mutate
                value=float(check.people_count),
                at=check.at,
                message=result.reason,
                acknowledged=False,  # pragma: no mutate (the column's default too)
            )
            uow.session.add(alert)
            uow.flush()
            uow.repo.append_audit(
                ctx.clock.now(),
                SYSTEM.name,
                "alert.permit",
                "alert",
                str(alert.id),
                canonical_payload({"permit_id": result.permit_id}),
            )
            outcome = PresenceOutcome(result, alert_id=alert.id)
        uow.commit()
        return outcome


presence_check = retry_races(_attempt_presence_check)


def permits_valid_at(ctx: WorkflowContext, zone: str, at: datetime) -> list[PermitView]:
    with ctx.uow() as uow:
        stmt = select(PermitRow).where(PermitRow.zone == zone).order_by(PermitRow.id)
        return [v for v in (_view(r) for r in uow.session.scalars(stmt)) if v.valid_at(at)]


def _get(session: Session, permit_id: int) -> PermitRow:
    row = session.get(PermitRow, permit_id)
    if row is None:
        raise NotFound(f"permit {permit_id} does not exist")
    return row
