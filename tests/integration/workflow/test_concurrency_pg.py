"""Two sessions racing the same transition on PostgreSQL: exactly one wins (optimistic locking)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from workflow.domain.clock import FakeClock
from workflow.domain.errors import ConcurrencyConflict, DomainError, IllegalTransition
from workflow.domain.lifecycle import Action, HazardState
from workflow.domain.observations import Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_session_factory
from workflow.persistence.orm import Base
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.hazards import _step
from workflow.services.users import create_user

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def pg_ctx(pg_engine: Engine) -> WorkflowContext:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return WorkflowContext(make_session_factory(pg_engine), FakeClock(T0))


def _rectified_hazard(ctx: WorkflowContext) -> tuple[int, list[Actor]]:
    people = {}
    for name, role in [
        ("eng", Role.SAFETY_ENGINEER),
        ("fixer", Role.RECTIFIER),
        ("r1", Role.REVIEWER),
        ("r2", Role.REVIEWER),
    ]:
        view, _ = create_user(ctx, name, role)
        people[name] = Actor(view.id, name, role)
    obs = Observation("o1", "leak.leak", 0.9, "z1", SourceKind.CAMERA, "cam1", T0, ("k",))
    hid = hz.ingest_observation(ctx, obs).hazard_id
    assert hid is not None
    hz.register(ctx, hid, people["eng"])
    hz.dispatch(ctx, hid, people["eng"])
    hz.start(ctx, hid, people["fixer"])
    hz.rectify(ctx, hid, people["fixer"], ["after"], None)
    return hid, [people["r1"], people["r2"]]


def test_interleaved_sessions_second_commit_conflicts(pg_ctx: WorkflowContext) -> None:
    hid, (r1, r2) = _rectified_hazard(pg_ctx)
    now = pg_ctx.clock.now()
    with pytest.raises(ConcurrencyConflict), pg_ctx.uow() as b:
        hb = b.repo.hazard(hid)  # b reads version N in state rectified ...
        with pg_ctx.uow() as a:  # ... a reads the same version, approves and commits first
            _step(a, a.repo.hazard(hid), Action.APPROVE, r1, now)
            a.commit()
        _step(b, hb, Action.REJECT, r2, now, "not convinced")  # still looks legal to b
        b.commit()
    with pg_ctx.uow() as check:
        assert check.repo.hazard(hid).state == HazardState.REVIEWED.value
    assert verify_audit_chain(pg_ctx).ok


def test_threads_racing_review_exactly_one_wins(pg_ctx: WorkflowContext) -> None:
    hid, reviewers = _rectified_hazard(pg_ctx)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(actor: Actor) -> None:
        barrier.wait()
        try:
            hz.review(pg_ctx, hid, actor, approve=True)
            result = "won"
        except (ConcurrencyConflict, IllegalTransition) as exc:
            result = type(exc).__name__
        except DomainError as exc:  # pragma: no cover - would be a bug
            result = f"unexpected {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1, outcomes
    assert verify_audit_chain(pg_ctx).ok
