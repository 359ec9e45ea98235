"""The escalation sweep, pinned by hand-built timelines (deadlines: red respond 2 h / fix 24 h, blue
respond 72 h / fix 30 days; one level per 2 h overdue, chain team leader → workshop → plant safety →
plant director): which hazards a batch takes and in which order, the fix deadline for work in progress, what
is skipped without stopping the sweep, and the event and audit entry written for each step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from workflow.domain.clock import FakeClock
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.observations import Observation
from workflow.domain.roles import Actor
from workflow.persistence.orm import AuditRow, HazardEventRow
from workflow.services import hazards as hz
from workflow.services.context import WorkflowContext
from workflow.services.escalation import escalation_sweep

pytestmark = pytest.mark.integration
ObsFactory = Callable[..., Observation]
H = timedelta(hours=1)
RESOLVED = VerificationOutcome(Verdict.RESOLVED, 0.93, 120, 0.02)


def _hazard(ctx: WorkflowContext, make_obs: ObsFactory, n: int, clock: FakeClock, *, red: bool) -> int:
    grade = {"likelihood": 5, "severity": 5} if red else {"likelihood": 1, "severity": 1}
    result = hz.ingest_observation(ctx, make_obs(n, clock.now(), zone=f"z{n}", **grade))
    assert result.hazard_id is not None
    return result.hazard_id


def _steps(ctx: WorkflowContext, batch: int = 500) -> list[tuple[int, int, int, str]]:
    return [(s.hazard_id, s.from_level, s.to_level, s.responsible) for s in escalation_sweep(ctx, batch)]


def test_a_batch_takes_the_earliest_fix_deadline_first_and_no_more(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    blue = _hazard(ctx, make_obs, 1, clock, red=False)  # fix by T0 + 30 days
    red = _hazard(ctx, make_obs, 2, clock, red=True)  # fix by T0 + 24 h: first in line
    clock.advance(76 * H)  # blue 4 h past its response: level 2; red far past both: level 3 (the cap)
    assert _steps(ctx, batch=1) == [(red, 0, 3, "plant_director")]
    # Red is at the top of the chain now: it no longer takes the batch's one place.
    assert _steps(ctx, batch=1) == [(blue, 0, 2, "plant_safety_manager")]
    assert _steps(ctx, batch=1) == []


def test_hazards_not_yet_an_interval_late_do_not_take_the_batch(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    blue = _hazard(ctx, make_obs, 1, clock, red=False)
    clock.advance(76 * H)  # blue: 4 h past its response deadline
    _hazard(ctx, make_obs, 2, clock, red=True)  # new red: respond by now + 2 h, fix by now + 24 h (earlier)
    assert _steps(ctx, batch=1) == [(blue, 0, 2, "plant_safety_manager")]


def test_work_in_progress_escalates_on_its_fix_deadline_and_fixed_work_never(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    fixed = _hazard(ctx, make_obs, 1, clock, red=True)  # fix by T0 + 24 h
    for step in (
        lambda h: hz.register(ctx, h, actors["insp"]),
        lambda h: hz.dispatch(ctx, h, actors["eng"], assignee="fixer"),
        lambda h: hz.start(ctx, h, actors["fixer"]),
    ):
        step(fixed)
    hz.rectify(ctx, fixed, actors["fixer"], ["after/1.jpg"], RESOLVED)  # rectified: awaiting review
    clock.advance(timedelta(minutes=1))
    working = _hazard(ctx, make_obs, 2, clock, red=True)  # fix by T0 + 24 h 1 min
    hz.register(ctx, working, actors["insp"])
    hz.dispatch(ctx, working, actors["eng"], assignee="fixer")
    hz.start(ctx, working, actors["fixer"])  # answered: only the fix deadline applies
    clock.advance(25 * H)  # T0 + 25 h 1 min: 1 h past the fix deadline
    assert _steps(ctx, batch=1) == []
    clock.advance(H)  # 2 h past: one level up; the rectified one, 2 h 1 min past, stays where it is
    assert _steps(ctx, batch=1) == [(working, 0, 1, "workshop_manager")]


def test_a_hazard_already_at_its_level_is_skipped_and_the_sweep_goes_on(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    first = _hazard(ctx, make_obs, 1, clock, red=True)  # fix by T0 + 24 h
    hz.register(ctx, first, actors["insp"])
    hz.dispatch(ctx, first, actors["eng"], assignee="fixer")
    hz.start(ctx, first, actors["fixer"])
    clock.advance(23 * H)
    second = _hazard(ctx, make_obs, 2, clock, red=True)  # respond by T0 + 25 h, fix by T0 + 47 h
    clock.advance(3 * H)  # T0 + 26 h: first 2 h past its fix deadline, second 1 h past its response
    assert _steps(ctx) == [(first, 0, 1, "workshop_manager")]
    clock.advance(H)  # T0 + 27 h: first still level 1 (3 h late), second 2 h late: level 1
    assert _steps(ctx) == [(second, 0, 1, "workshop_manager")]


def test_each_step_writes_its_event_and_audit_entry(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    hid = _hazard(ctx, make_obs, 1, clock, red=True)
    hz.register(ctx, hid, actors["insp"])
    clock.advance(4 * H)  # 2 h past the 2 h response deadline
    assert _steps(ctx) == [(hid, 0, 1, "workshop_manager")]
    with ctx.uow() as uow:
        event = uow.session.scalars(select(HazardEventRow).where(HazardEventRow.action == "escalate")).one()
        audit = uow.session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).one()
        got_event = (event.hazard_id, event.from_state, event.to_state, event.actor_id, event.actor_name,
                     event.actor_role, event.at, event.reason)  # fmt: skip
        got_audit = (audit.actor, audit.action, audit.entity, audit.entity_id, audit.payload, audit.at)
    assert got_event == (
        hid, "registered", "registered", None, "system", "safety_engineer", clock.now(),
        "overdue by 2:00:00; now with workshop_manager",
    )  # fmt: skip
    assert got_audit == (
        "system", "hazard.escalate", "hazard", str(hid),
        '{"from":0,"responsible":"workshop_manager","to":1}', clock.now(),
    )  # fmt: skip
