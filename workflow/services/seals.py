"""Sealed originals: images with faces that only some roles may see; everyone else sees a blurred copy.

The original stays the evidence (its hash is what the hazard refers to); sealing only decides who is
served which bytes. Each time a sealed original is shown, the audit log says who saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.domain.audit import canonical_payload
from workflow.domain.roles import Actor
from workflow.persistence.orm import SealedObjectRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races


@dataclass(frozen=True, slots=True)
class Seal:
    key: str
    display_key: str | None  # None: the blurred copy is not made yet (nothing but the original exists)
    zone: str


def _attempt_seal_object(ctx: WorkflowContext, key: str, zone: str, display_key: str | None = None) -> Seal:
    """Seal ``key`` (idempotent); a ``display_key`` given later completes a seal made without one."""
    if display_key == key:
        raise ValueError("a sealed original cannot be its own blurred copy")
    with ctx.uow() as uow:
        row = uow.session.get(SealedObjectRow, key)
        if row is None:
            row = SealedObjectRow(key=key, display_key=display_key, zone=zone, sealed_at=ctx.clock.now())
            uow.session.add(row)
        elif display_key is not None and row.display_key is None:
            row.display_key = display_key
        seal = Seal(row.key, row.display_key, row.zone)
        uow.commit()
        return seal


seal_object = retry_races(_attempt_seal_object)


def seal_of(ctx: WorkflowContext, key: str) -> Seal | None:
    with ctx.uow() as uow:
        row = uow.session.get(SealedObjectRow, key)
        return None if row is None else Seal(row.key, row.display_key, row.zone)


def _attempt_record_sealed_view(ctx: WorkflowContext, key: str, actor: Actor) -> None:
    """Audit that ``actor`` was shown the sealed original ``key``."""
    with ctx.uow() as uow:
        uow.repo.append_audit(
            ctx.clock.now(), actor.name, "object.sealed_view", "object", key,
            canonical_payload({"role": actor.role.value}),
        )  # fmt: skip
        uow.commit()


record_sealed_view = retry_races(_attempt_record_sealed_view)
