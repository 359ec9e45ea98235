"""Camera snapshots attached to a sensor hazard: the zone's fresh frames as evidence of the alert."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput
from workflow.domain.evidence import EvidenceKind
from workflow.domain.roles import SYSTEM
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races


def _attempt_attach_snapshots(
    ctx: WorkflowContext, hazard_id: int, object_keys: Sequence[str], *, alert_id: int, sensor_id: str
) -> int:
    """Append one snapshot evidence item (all keys) to the hazard; returns its sequence number."""
    if not object_keys or any(not key for key in object_keys):
        raise InvalidInput("attach_snapshots needs at least one non-empty object key")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        payload = canonical_payload({"alert_id": alert_id, "sensor_id": sensor_id})
        row = uow.repo.append_evidence(
            hazard, EvidenceKind.SNAPSHOT.value, tuple(object_keys), SYSTEM.name, now, payload
        )
        uow.repo.append_audit(
            now,
            SYSTEM.name,
            "hazard.sensor_snapshots",
            "hazard",
            str(hazard.id),
            canonical_payload({"seq": row.seq, "alert_id": alert_id}),
        )
        uow.flush()
        uow.commit()
        return row.seq


attach_snapshots = retry_races(_attempt_attach_snapshots)
