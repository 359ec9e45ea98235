"""Batched intake decides exactly as one-by-one intake: the same random stream of observations (repeats,
duplicates, de-dup window expiry, reopens, low confidence) ingested both ways into two SQLite databases
gives the same results, the same rows and the same audit chain, down to the head hash."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from workflow.domain.clock import FakeClock
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.observations import IngestResult, IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.orm import AuditRow, EvidenceRow, HazardEventRow, HazardRow, ObservationRow
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.users import create_user

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
Snapshot = dict[str, list[tuple[object, ...]]]


@pytest.fixture
def two_dbs(_template_db: Path, tmp_path: Path) -> Iterator[tuple[WorkflowContext, WorkflowContext]]:
    engines = []
    for name in ("one_by_one.db", "batched.db"):
        shutil.copy(_template_db, tmp_path / name)
        engines.append(make_engine(f"sqlite:///{tmp_path / name}"))
    yield tuple(WorkflowContext(make_session_factory(e), FakeClock(T0)) for e in engines)  # type: ignore[misc]
    for e in engines:
        e.dispose()


def _closed_leaks(ctx: WorkflowContext) -> None:
    """Two closed leak hazards at equipment E1 (reopen candidates, most recent first) and one at E2."""
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    u = {}
    for name, role in [
        ("insp", Role.INSPECTOR),
        ("eng", Role.SAFETY_ENGINEER),
        ("fixer", Role.RECTIFIER),
        ("rev", Role.REVIEWER),
    ]:
        view, _ = create_user(ctx, name, role)
        u[name] = Actor(view.id, view.name, view.role)
    clock.set(NOW - timedelta(days=2))
    hids = []
    for n, (equipment, zone) in enumerate([("E1", "z1"), ("E1", "z2"), ("E2", "z1")]):
        obs = Observation(
            f"seed-{n}",
            "leak.leak",
            0.9,
            zone,
            SourceKind.PHOTO,
            f"up{n}",
            clock.now(),
            (f"s{n}",),
            equipment,
        )
        hids.append(hz.ingest_observation(ctx, obs).hazard_id)
    for hid in hids:  # all opened first, then closed: otherwise the second would reopen the first
        assert hid is not None
        hz.register(ctx, hid, u["insp"])
        hz.dispatch(ctx, hid, u["eng"])
        hz.start(ctx, hid, u["fixer"])
        hz.rectify(ctx, hid, u["fixer"], ["after"], VerificationOutcome(Verdict.RESOLVED, 0.9, 99))
        hz.review(ctx, hid, u["rev"], approve=True)
        hz.close(ctx, hid, u["rev"])
        clock.advance(timedelta(minutes=5))
    clock.set(NOW)


def _stream(seed: int, n: int) -> list[Observation]:
    rng = random.Random(seed)
    at, out = T0 + timedelta(days=20), list[Observation]()
    for i in range(n):
        at += timedelta(hours=9) if rng.random() < 0.05 else timedelta(minutes=rng.randrange(0, 30))
        if out and rng.random() < 0.1:  # a retried upload or a re-sent tick
            out.append(rng.choice(out))
            continue
        source = rng.choice([SourceKind.CAMERA, SourceKind.PHOTO])
        out.append(
            Observation(
                f"o{i}",
                rng.choice(["leak.leak", "ppe.no_helmet", "ppe.no_helmet", "ppe.ok"]),
                rng.choice([0.9, 0.9, 0.9, 0.1]),
                rng.choice(["z1", "z2"]),
                source,
                f"cam{rng.randrange(3)}" if source is SourceKind.CAMERA else f"up{i}",
                at,
                (f"k{i}",),
                rng.choice([None, "E1", "E2", "P-1"]),
            )
        )
    return out


def _snapshot(ctx: WorkflowContext) -> Snapshot:
    with ctx.uow() as uow:
        s = uow.session

        def rows(*cols: object, order: tuple[object, ...]) -> list[tuple[object, ...]]:
            return [tuple(r) for r in s.execute(select(*cols).order_by(*order))]  # type: ignore[call-overload]

        h = HazardRow
        return {
            "hazards": rows(
                h.id, h.state, h.dedup_key, h.repeat_key, h.evidence_count, h.last_seen_at, h.repeat_flag,
                h.escalation_level, h.reopen_count, h.fix_by, h.closed_at, order=(h.id,),
            ),
            "evidence": rows(
                EvidenceRow.hazard_id, EvidenceRow.seq, EvidenceRow.observation_id, EvidenceRow.object_keys,
                order=(EvidenceRow.hazard_id, EvidenceRow.seq),
            ),
            "observations": rows(
                ObservationRow.observation_id, ObservationRow.hazard_id, ObservationRow.status,
                order=(ObservationRow.observation_id,),
            ),
            "events": rows(
                HazardEventRow.hazard_id, HazardEventRow.action, HazardEventRow.reason,
                order=(HazardEventRow.hazard_id, HazardEventRow.id),
            ),
            "audit": rows(
                AuditRow.seq, AuditRow.action, AuditRow.entity_id, AuditRow.hash, order=(AuditRow.seq,)
            ),
        }  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_intake_equals_one_by_one(
    two_dbs: tuple[WorkflowContext, WorkflowContext], seed: int
) -> None:
    one, batched = two_dbs
    for ctx in two_dbs:
        _closed_leaks(ctx)
    stream = _stream(seed, 160)
    expected = [hz.ingest_observation(one, o) for o in stream]
    rng, got, i = random.Random(seed), list[IngestResult](), 0
    while i < len(stream):
        size = rng.randrange(1, 25)
        got += hz.ingest_observations(batched, stream[i : i + size])
        i += size
    assert got == expected
    statuses = {r.status for r in expected}
    assert statuses == set(IngestStatus), statuses  # the stream exercises every decision
    assert any(r.repeat_flagged for r in expected)
    assert _snapshot(batched) == _snapshot(one)
    assert verify_audit_chain(batched).ok
