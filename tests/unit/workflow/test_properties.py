"""Property-based: random command sequences never break the invariants (SQLite, modest example count)."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import DomainError
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.orm import EvidenceRow, HazardRow
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
)


def _apply(
    ctx: WorkflowContext,
    clock: FakeClock,
    actors: list[Actor],
    cmd: tuple[object, ...],
    n: int,
    accepted_keys: list[str],
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
        actor = actors[int(str(who))]
        hazard_id = int(str(hid)) + 1
        if action == "rectify":
            outcome = VerificationOutcome(Verdict(str(verdict)), 0.9, 50)
            hz.rectify(ctx, hazard_id, actor, [f"after/{n}.jpg"], outcome)
        elif action in ("approve", "reject"):
            hz.review(ctx, hazard_id, actor, approve=action == "approve", reason="why")
        elif action == "close":
            hz.close(ctx, hazard_id, actor, override_reason="on site" if n % 2 else None)
        elif action == "reopen":
            hz.reopen(ctx, hazard_id, actor, "again")
        else:
            getattr(hz, str(action))(ctx, hazard_id, actor)


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


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
        for n, cmd in enumerate(commands):
            # Refusals are fine; the invariants below check that they wrote nothing.
            with contextlib.suppress(DomainError):
                _apply(ctx, clock, actors, cmd, n, accepted)
        assert verify_audit_chain(ctx).ok
        with ctx.uow() as uow:
            order = (EvidenceRow.hazard_id, EvidenceRow.seq)
            evidence = list(uow.session.scalars(select(EvidenceRow).order_by(*order)))
            hazards = {h.id: h for h in uow.session.scalars(select(HazardRow))}
            _check_invariants(evidence, hazards, accepted)
        engine.dispose()
