"""Camera health alerts, stored with the others (listed, acknowledged, audited) and debounced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.camera_alerts import LOSSES, CameraAlertKind
from workflow.domain.roles import SYSTEM
from workflow.persistence.orm import AlertRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races
from workflow.services.sensors import Alert


@dataclass(frozen=True, slots=True)
class CameraAlertIn:
    camera_id: str
    zone: str
    kind: CameraAlertKind
    message: str
    at: datetime


def _attempt_record_camera_alert(ctx: WorkflowContext, alert: CameraAlertIn) -> Alert | None:
    """Store the alert, or None when it is no news: "back" when no loss of this camera is on record
    (a restarted service whose camera was offline before it started), or a second loss of the same kind
    in a row ("offline" twice)."""
    with ctx.uow() as uow:
        mine = select(AlertRow).where(AlertRow.camera_id == alert.camera_id)
        newest = mine.order_by(AlertRow.at.desc(), AlertRow.id.desc()).limit(1)
        last = uow.session.scalars(newest).first()
        if alert.kind is CameraAlertKind.BACK and (last is None or last.kind not in LOSSES):
            return None
        if alert.kind in LOSSES and last is not None and last.kind == alert.kind:
            return None
        row = AlertRow(
            kind=alert.kind.value,
            sensor_id=None,
            camera_id=alert.camera_id,
            zone=alert.zone,
            tier=None,
            previous_tier=None,
            value=None,
            at=alert.at,
            acknowledged=False,
            message=alert.message,
        )
        uow.session.add(row)
        uow.flush()
        uow.repo.append_audit(
            ctx.clock.now(), SYSTEM.name, f"alert.{alert.kind.value}", "alert", str(row.id),
            canonical_payload({"camera": alert.camera_id}),
        )  # fmt: skip
        uow.commit()
        return Alert.of(row)


record_camera_alert = retry_races(_attempt_record_camera_alert)
