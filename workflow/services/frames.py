"""The camera frame ledger behind retention: frames are recorded as they are stored; once older than the
retention period and referred to by no evidence, they are forgotten here and deleted from the object store
by the caller (``serving.pipelines.retention``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.domain.errors import InvalidInput
from workflow.persistence.orm import EvidenceObjectRow, FrameRow, SealedObjectRow
from workflow.services.context import WorkflowContext


@dataclass(frozen=True, slots=True)
class Frame:
    key: str
    camera_id: str


def record_frame(ctx: WorkflowContext, key: str, camera_id: str) -> None:
    """Note a stored frame; the same frame stored again (a frozen camera's identical bytes) starts its
    retention period anew."""
    for attempt in (1, 2):
        try:
            with ctx.uow() as uow:
                touch_frame(uow.session, key, camera_id, ctx.clock.now())
                uow.commit()
                return
        except IntegrityError:
            if attempt == 2:  # a concurrent insert of the same key won the first race; the update wins now
                raise


def touch_frame(session: Session, key: str, camera_id: str, now: datetime) -> None:
    """Insert or refresh a ledger row inside the caller's transaction."""
    frame = session.get(FrameRow, key)
    if frame is None:
        session.add(FrameRow(key=key, camera_id=camera_id, stored_at=now))
    else:
        frame.stored_at = now


def _unreferenced(before: datetime) -> ColumnElement[bool]:
    referenced = exists().where(EvidenceObjectRow.key == FrameRow.key)
    # The blurred copy of a sealed frame lives as long as its original is evidence.
    copy_of_evidence = (
        exists()
        .where(SealedObjectRow.display_key == FrameRow.key)
        .where(exists().where(EvidenceObjectRow.key == SealedObjectRow.key))
    )
    return (FrameRow.stored_at < before) & ~referenced & ~copy_of_evidence


def expired_frames(ctx: WorkflowContext, before: datetime, limit: int = 500) -> list[str]:
    """Keys of frames stored before ``before`` that no evidence refers to, oldest first."""
    if limit < 1:
        raise InvalidInput("limit must be ≥ 1")
    stmt = select(FrameRow.key).where(_unreferenced(before)).order_by(FrameRow.stored_at).limit(limit)
    with ctx.uow() as uow:
        return list(uow.session.scalars(stmt))


def forget_frames(ctx: WorkflowContext, keys: Sequence[str], before: datetime) -> list[Frame]:
    """Drop ``keys`` from the ledger if they are *still* expired and unreferenced; returns those dropped,
    which the caller then deletes from the object store. Ledger first: a crash in between can leave an
    orphan object, never evidence without its image."""
    if not keys:
        return []
    stmt = (
        delete(FrameRow)
        .where(FrameRow.key.in_(list(keys)), _unreferenced(before))
        .returning(FrameRow.key, FrameRow.camera_id)
        .execution_options(synchronize_session=False)
    )
    with ctx.uow() as uow:
        dropped = [Frame(key, camera_id) for key, camera_id in uow.session.execute(stmt)]
        if dropped:  # a deleted frame's seal goes with it
            gone = delete(SealedObjectRow).where(SealedObjectRow.key.in_([f.key for f in dropped]))
            uow.session.execute(gone.execution_options(synchronize_session=False))
        uow.commit()
        return dropped
