"""Temporal confirmation against the stored sightings of a camera (shared by API and worker processes).

Two workers inspecting two frames of one camera at the same moment may each miss the other's frame; the
next frame sees both. Confirmation can be one frame late under that race, never wrong about a frame.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from workflow.domain.confirmation import ConfirmationRule, Sighting, confirmed, window_ending_at
from workflow.persistence.orm import CameraSightingRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races

_KEEP_FACTOR = 4  # rows kept per camera: a few windows, so late (out-of-order) frames still find theirs


def _attempt_confirm_sighting(
    ctx: WorkflowContext, camera_id: str, current: Sighting, rule: ConfirmationRule
) -> frozenset[str]:
    """Store ``current`` and return its keys that are confirmed by the camera's last ``n`` snapshots."""
    for attempt in (1, 2):
        try:
            with ctx.uow() as uow:
                session = uow.session
                rows = session.scalars(
                    select(CameraSightingRow)
                    .where(CameraSightingRow.camera_id == camera_id)
                    .order_by(CameraSightingRow.captured_at.desc())
                    .limit(rule.n * _KEEP_FACTOR)
                ).all()
                history = [Sighting(r.captured_at, frozenset(json.loads(r.keys))) for r in rows]
                same = next((r for r in rows if r.captured_at == current.at), None)
                if same is None:
                    session.add(
                        CameraSightingRow(
                            camera_id=camera_id, captured_at=current.at, keys=json.dumps(sorted(current.keys))
                        )
                    )
                else:
                    same.keys = json.dumps(sorted(current.keys))
                if len(rows) >= rule.n * _KEEP_FACTOR:
                    session.execute(
                        delete(CameraSightingRow).where(
                            CameraSightingRow.camera_id == camera_id,
                            CameraSightingRow.captured_at < rows[-1].captured_at,
                        )
                    )
                uow.commit()
                return confirmed(window_ending_at(history, current, rule.n), current, rule)
        except IntegrityError:
            if attempt == 2:  # the same frame raced itself (a retried task): the second attempt updates
                raise
    raise AssertionError("unreachable")


confirm_sighting = retry_races(_attempt_confirm_sighting)
