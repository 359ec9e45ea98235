"""The latest inspection of each camera, in the database: under Celery the inspection runs in a worker
process while the API process serves the camera board, so the board reads what the workers stored here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.persistence.orm import CameraInspectionRow, PpeTallyRow
from workflow.services.context import WorkflowContext
from workflow.services.frames import touch_frame


@dataclass(frozen=True, slots=True)
class CameraFinding:
    kind: str
    confidence: float
    box: tuple[float, float, float, float]
    zone: str


@dataclass(frozen=True, slots=True)
class ZonePpe:
    """People in one zone of one frame with a helmet on, and without (where the zone requires one)."""

    zone: str
    compliant: int
    violations: int


@dataclass(frozen=True, slots=True)
class CameraInspection:
    camera_id: str
    at: datetime
    annotated_key: str | None
    people: int
    findings: tuple[CameraFinding, ...]
    ppe: tuple[ZonePpe, ...] = ()  # counted into the PPE compliance KPI once per frame


def record_inspection(ctx: WorkflowContext, inspection: CameraInspection) -> None:
    """Keep ``inspection`` if it is the camera's newest (tasks can finish out of order), and note its
    annotated frame in the retention ledger, in one transaction."""
    for attempt in (1, 2):
        try:
            with ctx.uow() as uow:
                uow.repo.begin_write()  # SQLite: the tallies' read-increment-write must see the latest
                _store(uow.session, inspection, ctx.clock.now())
                uow.commit()
                return
        except IntegrityError:
            if attempt == 2:  # two first inspections of one camera raced: the second attempt updates
                raise


def _store(session: Session, inspection: CameraInspection, now: datetime) -> None:
    if inspection.annotated_key is not None:
        touch_frame(session, inspection.annotated_key, inspection.camera_id, now)
    row = session.get(CameraInspectionRow, inspection.camera_id, with_for_update=True)
    if row is None or row.inspected_at < inspection.at:
        # Once per frame: a redelivered task's frame is not newer. A frame finishing after a newer one of
        # its camera is not counted either (indistinguishable from a redelivery): a small undercount.
        _count_ppe(session, inspection)
    if row is None:
        row = CameraInspectionRow(camera_id=inspection.camera_id)
        session.add(row)
    elif row.inspected_at > inspection.at:
        return
    row.inspected_at = inspection.at
    row.annotated_key = inspection.annotated_key
    row.people = inspection.people
    row.findings = json.dumps(
        [
            {"kind": f.kind, "confidence": f.confidence, "box": list(f.box), "zone": f.zone}
            for f in inspection.findings
        ]
    )


def _count_ppe(session: Session, inspection: CameraInspection) -> None:
    day = inspection.at.astimezone(UTC).date()
    for zone in inspection.ppe:
        if zone.compliant == 0 and zone.violations == 0:
            continue
        tally = session.get(PpeTallyRow, (day, zone.zone), with_for_update=True)
        if tally is None:  # two cameras adding the first row race: record_inspection's retry updates it
            tally = PpeTallyRow(day=day, zone=zone.zone, compliant=0, violations=0)
            session.add(tally)
        tally.compliant += zone.compliant
        tally.violations += zone.violations


def latest_inspections(ctx: WorkflowContext, camera_ids: Iterable[str]) -> dict[str, CameraInspection]:
    ids = list(camera_ids)
    if not ids:
        return {}
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(CameraInspectionRow).where(CameraInspectionRow.camera_id.in_(ids)))
        return {row.camera_id: _inspection(row) for row in rows}


def _inspection(row: CameraInspectionRow) -> CameraInspection:
    findings = tuple(
        CameraFinding(str(f["kind"]), float(f["confidence"]), _box(f["box"]), str(f["zone"]))
        for f in json.loads(row.findings)
    )
    return CameraInspection(row.camera_id, row.inspected_at, row.annotated_key, row.people, findings)


def _box(values: list[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)
