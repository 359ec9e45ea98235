"""Property-based: random command sequences never break the invariants (SQLite, modest example count)."""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.support.role_matrix import EDGES, OVERRIDERS, may
from workflow.domain.clock import FakeClock
from workflow.domain.errors import (
    DomainError,
    EvidenceRuleViolation,
    IllegalTransition,
    NotFound,
    Unauthorised,
)
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.lifecycle import Action, HazardState
from workflow.domain.observations import IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.orm import AuditRow, EvidenceRow, HazardRow
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.escalation import escalation_sweep
from workflow.services.users import create_user

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ROLES = list(Role)
command = st.one_of(
    st.tuples(
        st.just("observe"), st.integers(0, 2), st.sampled_from(["ppe.no_helmet", "leak.leak"]), st.booleans()
    ),
    st.tuples(st.just("advance"), st.integers(1, 600)),
    st.tuples(st.just("sweep")),
    st.tuples(
        st.just("step"),
        st.integers(0, 5),
        st.sampled_from(["register", "dispatch", "start", "rectify", "approve", "reject", "close", "reopen"]),
        st.integers(0, len(ROLES) * 2 - 1),
        st.sampled_from(list(Verdict)),
    ),
    # Random actions rarely get a hazard far: "next" takes the action the lifecycle offers from the
    # hazard's current state (by a random actor), so review, close and reopen are reached too.
    *[
        st.tuples(
            st.just("step"),
            st.integers(0, 1),
            st.just("next"),
            st.integers(0, len(ROLES) * 2 - 1),
            st.sampled_from(list(Verdict)),
        )
    ]
    * 3,
)


@dataclass
class Model:
    """What the test itself remembers of each hazard: the last verdict and who rectified it."""

    verdicts: dict[int, Verdict] = field(default_factory=dict)
    rectifiers: dict[int, int | None] = field(default_factory=dict)


def _expected_refusal(
    ctx: WorkflowContext, model: Model, hazard_id: int, action: Action, actor: Actor, override: str | None
) -> type[DomainError] | None:
    """The refusal the domain rules promise for this step, from the hand-written role matrix."""
    with ctx.uow() as uow:
        row = uow.session.get(HazardRow, hazard_id)
        if row is None:
            return NotFound
        state = HazardState(row.state)
    if (state, action) not in EDGES:
        return IllegalTransition
    if not may(state, action, actor.role):
        return Unauthorised
    if action in (Action.APPROVE, Action.REJECT) and model.rectifiers.get(hazard_id) == actor.user_id:
        return Unauthorised  # the reviewer must not be the rectifier
    verdict = model.verdicts.get(hazard_id)
    if action is Action.CLOSE and verdict is not None and verdict is not Verdict.RESOLVED:
        if override is None:
            return EvidenceRuleViolation
        if actor.role not in OVERRIDERS or model.rectifiers.get(hazard_id) == actor.user_id:
            return Unauthorised
    return None


def _fingerprint(
    ctx: WorkflowContext, hazard_id: int
) -> tuple[str | None, int | None, int | None, int | None]:
    """The hazard's state and version, and how many audit and evidence rows exist."""
    with ctx.uow() as uow:
        row = uow.session.get(HazardRow, hazard_id)
        audit = uow.session.scalar(select(func.count()).select_from(AuditRow))
        evidence = uow.session.scalar(select(func.count()).select_from(EvidenceRow))
        return (row.state if row else None), (row.version if row else None), audit, evidence


def _step(ctx: WorkflowContext, model: Model, actor: Actor, hazard_id: int, action: Action, n: int,
          verdict: Verdict) -> None:  # fmt: skip
    override = "on site" if n % 2 else None
    expected = _expected_refusal(ctx, model, hazard_id, action, actor, override)
    before = _fingerprint(ctx, hazard_id)
    with ctx.uow() as uow:
        row = uow.session.get(HazardRow, hazard_id)
        target = EDGES.get((HazardState(row.state), action), (None, ""))[0] if row else None
    try:
        if action is Action.RECTIFY:
            hz.rectify(ctx, hazard_id, actor, [f"after/{n}.jpg"], VerificationOutcome(verdict, 0.9, 50))
        elif action in (Action.APPROVE, Action.REJECT):
            hz.review(ctx, hazard_id, actor, approve=action is Action.APPROVE, reason="why")
        elif action is Action.CLOSE:
            hz.close(ctx, hazard_id, actor, override_reason=override)
        elif action is Action.REOPEN:
            hz.reopen(ctx, hazard_id, actor, "again")
        else:
            getattr(hz, action.value)(ctx, hazard_id, actor)
    except DomainError as refusal:
        assert type(refusal) is expected, f"{action} by {actor.role}: {refusal!r}, expected {expected}"
        assert _fingerprint(ctx, hazard_id) == before  # a refusal writes nothing
        return
    assert expected is None, f"{action} by {actor.role} was accepted; expected {expected.__name__}"
    assert _fingerprint(ctx, hazard_id)[0] == (target.value if target else None)
    if action is Action.RECTIFY:
        model.verdicts[hazard_id], model.rectifiers[hazard_id] = verdict, actor.user_id


def _next_action(ctx: WorkflowContext, hazard_id: int, n: int) -> str:
    with ctx.uow() as uow:
        row = uow.session.get(HazardRow, hazard_id)
        current = row.state if row is not None else None
    offered = [a for (state, a) in EDGES if state.value == current]
    return offered[n % len(offered)].value if offered else Action.REGISTER.value


def _apply(
    ctx: WorkflowContext,
    clock: FakeClock,
    actors: list[Actor],
    cmd: tuple[object, ...],
    n: int,
    accepted_keys: list[str],
    model: Model,
) -> None:
    kind = cmd[0]
    if kind == "observe":
        _, cam, okind, retry = cmd
        oid = f"o{n - 1}" if retry and n > 0 else f"o{n}"
        key = f"snap/{oid}.jpg"
        obs = Observation(oid, str(okind), 0.9, "z1", SourceKind.CAMERA, f"cam{cam}", clock.now(), (key,))
        result = hz.ingest_observation(ctx, obs)
        if result.status in (IngestStatus.CREATED, IngestStatus.APPENDED, IngestStatus.REOPENED):
            accepted_keys.append(key)
    elif kind == "advance":
        clock.advance(timedelta(minutes=int(str(cmd[1]))))
    elif kind == "sweep":
        escalation_sweep(ctx)
    else:
        _, hid, action, who, verdict = cmd
        if action == "next":
            action = _next_action(ctx, int(str(hid)) + 1, n)
        _step(
            ctx,
            model,
            actors[int(str(who))],
            int(str(hid)) + 1,
            Action(str(action)),
            n,
            Verdict(str(verdict)),
        )


def _check_invariants(
    evidence: list[EvidenceRow], hazards: dict[int, HazardRow], accepted: list[str]
) -> None:
    by_hazard: dict[int, list[EvidenceRow]] = {}
    for e in evidence:
        by_hazard.setdefault(e.hazard_id, []).append(e)
    for hid, rows in by_hazard.items():
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))  # evidence order, no gaps
        assert hazards[hid].evidence_count == len(rows)
        assert [r.at for r in rows] == sorted(r.at for r in rows)
    for h in hazards.values():
        assert (h.closed_at is not None) == (h.state == HazardState.CLOSED.value)
    stored = [k for e in evidence if e.kind == "snapshot" for k in json.loads(e.object_keys)]
    assert sorted(stored) == sorted(accepted)  # no lost or invented evidence


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(command, min_size=5, max_size=30))
def test_random_commands_keep_invariants(commands: list[tuple[object, ...]], _template_db: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "p.db"
        shutil.copy(_template_db, db)
        engine = make_engine(f"sqlite:///{db}")
        clock = FakeClock(T0)
        ctx = WorkflowContext(make_session_factory(engine), clock)
        actors = []
        for i, role in enumerate(itertools.chain(ROLES, ROLES)):
            view, _ = create_user(ctx, f"u{i}", role)
            actors.append(Actor(view.id, view.name, role))
        accepted: list[str] = []
        model = Model()
        for n, cmd in enumerate(commands):
            _apply(ctx, clock, actors, cmd, n, accepted, model)
        assert verify_audit_chain(ctx).ok
        with ctx.uow() as uow:
            order = (EvidenceRow.hazard_id, EvidenceRow.seq)
            evidence = list(uow.session.scalars(select(EvidenceRow).order_by(*order)))
            hazards = {h.id: h for h in uow.session.scalars(select(HazardRow))}
            _check_invariants(evidence, hazards, accepted)
        engine.dispose()
