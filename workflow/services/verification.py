"""Before/after verification support: what to compare a rectification with, and recording a late verdict.

The serving layer computes the verdict (vision); this module only reads the hazard's first photo and box
and appends the outcome as evidence when it arrives after the rectification (background task).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.evidence import EvidenceKind, VerificationOutcome
from workflow.domain.lifecycle import HazardState
from workflow.persistence.orm import EvidenceRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races

Box = tuple[float, float, float, float]
_BEFORE_KINDS = (EvidenceKind.BEFORE_PHOTO.value, EvidenceKind.SNAPSHOT.value)


MAX_TARGETS = 24  # regions re-checked per rectification; a hazard merged from more says so in the reasons


@dataclass(frozen=True, slots=True)
class BeforeTarget:
    """One detection of the hazard: the photo or frame it was seen in and its box there (same pixels)."""

    before_key: str
    box: Box


@dataclass(frozen=True, slots=True)
class VerificationSubject:
    """The hazard as a verification needs it: every detection with a photo and a box, first seen first.
    No targets when there is nothing to compare with (e.g. a manual hazard without a photo): such a
    rectification can only need re-inspection."""

    hazard_id: int
    kind: str
    state: HazardState
    version: int
    targets: tuple[BeforeTarget, ...] = ()
    detections_total: int = 0  # with a box, before the MAX_TARGETS cap
    zone: str = ""

    @property
    def before_key(self) -> str | None:
        return self.targets[0].before_key if self.targets else None

    @property
    def box(self) -> Box | None:
        return self.targets[0].box if self.targets else None


def verification_subject(ctx: WorkflowContext, hazard_id: int) -> VerificationSubject:
    """Every before photo/snapshot with an object and a box (the same detection twice counts once)."""
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        stmt = (
            select(EvidenceRow)
            .where(EvidenceRow.hazard_id == hazard_id, EvidenceRow.kind.in_(_BEFORE_KINDS))
            .order_by(EvidenceRow.seq)
        )
        targets: dict[tuple[str, Box], None] = {}
        for row in uow.session.scalars(stmt):
            keys = json.loads(row.object_keys)
            for box in _boxes_of(row.payload) if keys else ():
                targets.setdefault((str(keys[0]), box), None)
        found = [BeforeTarget(key, box) for key, box in targets]
        return VerificationSubject(
            hazard.id,
            hazard.kind,
            HazardState(hazard.state),
            hazard.version,
            tuple(found[:MAX_TARGETS]),
            len(found),
            hazard.zone,
        )


def _boxes_of(payload: str | None) -> list[Box]:
    """Observation evidence stores its boxes as "x1,y1,x2,y2" (``box``), several of one image joined by
    ";" (``boxes``), in its payload (see ingest)."""
    if not payload:
        return []
    data = json.loads(payload)
    text = data.get("boxes") or data.get("box")
    if not isinstance(text, str):
        return []
    boxes: list[Box] = []
    for part in text.split(";"):
        try:
            x1, y1, x2, y2 = (float(v) for v in part.split(","))
        except ValueError:
            continue
        boxes.append((x1, y1, x2, y2))
    return boxes


def _attempt_append_verification(
    ctx: WorkflowContext,
    hazard_id: int,
    after_seq: int,
    outcome: VerificationOutcome,
    object_keys: Sequence[str],
    by: str,
) -> int:
    """Record the verdict for the after photos appended as evidence ``after_seq``; returns its seq.

    Idempotent (a redelivered task appends nothing): an existing verification for the same ``after_seq``
    is returned as is. One transaction; a concurrent duplicate loses on the hazard's version and its retry
    then finds the first one.
    """
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        existing = _find(uow.repo.evidence(hazard_id), EvidenceKind.VERIFICATION, "after_seq", after_seq)
        if existing is not None:
            return existing
        data = json.loads(outcome.to_json()) | {"after_seq": after_seq}
        row = uow.repo.append_evidence(
            hazard, EvidenceKind.VERIFICATION.value, object_keys, by, now, canonical_payload(data)
        )
        uow.repo.append_audit(
            now,
            by,
            "hazard.verification",
            "hazard",
            str(hazard.id),
            canonical_payload({"seq": row.seq, "after_seq": after_seq, "verdict": outcome.verdict.value}),
        )
        uow.flush()
        seq = row.seq
        uow.commit()
        return seq


append_verification = retry_races(_attempt_append_verification)


def _find(rows: Sequence[EvidenceRow], kind: EvidenceKind, field: str, value: int) -> int | None:
    """The seq of the evidence of ``kind`` whose payload has ``field == value`` (the idempotency link)."""
    for row in rows:
        if row.kind == kind.value and row.payload and json.loads(row.payload).get(field) == value:
            return row.seq
    return None
