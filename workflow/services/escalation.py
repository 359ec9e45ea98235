"""Escalation sweep: called by a scheduler; raises overdue hazards up the responsibility chain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.grading import escalation_target, overdue_by
from workflow.domain.lifecycle import UNANSWERED_STATES, UNFIXED_STATES, HazardState
from workflow.domain.roles import SYSTEM
from workflow.persistence.orm import HazardEventRow, HazardRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races


@dataclass(frozen=True, slots=True)
class Escalation:
    hazard_id: int
    from_level: int
    to_level: int
    responsible: str  # the role now responsible (from GradingPolicy.escalation_chain)


def _attempt_escalation_sweep(ctx: WorkflowContext, batch: int = 500) -> list[Escalation]:
    """One transaction; idempotent (a second sweep at the same time escalates nothing)."""
    now = ctx.clock.now()
    policy = ctx.config.grading
    done: list[Escalation] = []
    with ctx.uow() as uow:
        stmt = (
            select(HazardRow)
            .where(
                HazardRow.state.in_([s.value for s in UNFIXED_STATES]),
                HazardRow.respond_by <= now - policy.escalation_interval,
                HazardRow.escalation_level < policy.max_escalation,
            )
            .order_by(HazardRow.fix_by)
            .limit(batch)
        )
        for hazard in uow.session.scalars(stmt):
            state = HazardState(hazard.state)
            late = overdue_by(
                now,
                hazard.respond_by,
                hazard.fix_by,
                unanswered=state in UNANSWERED_STATES,
                unfixed=state in UNFIXED_STATES,
            )
            target = escalation_target(late, policy)
            if target <= hazard.escalation_level:
                continue
            step = Escalation(hazard.id, hazard.escalation_level, target, policy.escalation_chain[target])
            hazard.escalation_level = target
            uow.repo.add_event(
                HazardEventRow(
                    hazard_id=hazard.id,
                    action="escalate",
                    from_state=state.value,
                    to_state=state.value,
                    actor_id=None,  # pragma: no mutate (the column's default: dropping it is equivalent)
                    actor_name=SYSTEM.name,
                    actor_role=SYSTEM.role.value,
                    at=now,
                    reason=f"overdue by {late}; now with {step.responsible}",
                )
            )
            uow.repo.append_audit(
                now,
                SYSTEM.name,
                "hazard.escalate",
                "hazard",
                str(hazard.id),
                canonical_payload(
                    {"from": step.from_level, "to": step.to_level, "responsible": step.responsible}
                ),
            )
            done.append(step)
        uow.commit()
    return done


escalation_sweep = retry_races(_attempt_escalation_sweep)
