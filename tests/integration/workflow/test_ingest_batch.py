"""Batched intake (``ingest_observations``) on SQLite and PostgreSQL: one transaction per batch, the same
decisions as one-by-one intake, evidence numbered without gaps, the audit chain in batch order."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from workflow.domain.clock import FakeClock
from workflow.domain.errors import ClockSkew, ConcurrencyConflict
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import IngestResult, IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_session_factory
from workflow.persistence.orm import AuditRow, Base, EvidenceRow, HazardEventRow, HazardRow, ObservationRow
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.queries import hazard_detail
from workflow.services.users import create_user
from workflow.services.verification import verification_subject

ObsFactory = Callable[..., Observation]
LEAK = {"kind": "leak.leak", "source_kind": SourceKind.PHOTO, "equipment_id": "FL-7"}


def _count(ctx: WorkflowContext, model: type[object]) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _closed_leak(ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, u: dict[str, Actor]) -> int:
    hid = hz.ingest_observation(ctx, make_obs(100, clock.now(), source_id="up0", **LEAK)).hazard_id
    assert hid is not None
    hz.register(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    hz.rectify(ctx, hid, u["fixer"], ["after.jpg"], VerificationOutcome(Verdict.RESOLVED, 0.95, 120))
    hz.review(ctx, hid, u["rev"], approve=True)
    hz.close(ctx, hid, u["rev"])
    return hid


def test_duplicates_inside_a_batch_and_a_resent_batch(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    now = clock.now()
    batch = [make_obs(1, now), make_obs(2, now), make_obs(1, now), make_obs(3, now, source_id="cam2")]
    first = hz.ingest_observations(ctx, batch)
    assert [r.status for r in first] == [
        IngestStatus.CREATED,
        IngestStatus.APPENDED,
        IngestStatus.DUPLICATE,
        IngestStatus.CREATED,
    ]
    hid, other = first[0].hazard_id, first[3].hazard_id
    assert hid is not None and other is not None and hid != other
    assert first[1].hazard_id == first[2].hazard_id == hid
    detail = hazard_detail(ctx, hid)
    assert detail.hazard.evidence_count == 2
    assert [(e.seq, e.object_keys) for e in detail.evidence] == [(1, ("snap/1.jpg",)), (2, ("snap/2.jpg",))]
    # The whole batch again (a retried camera tick): every item is a duplicate of what it was.
    again = hz.ingest_observations(ctx, batch)
    assert [r.status for r in again] == [IngestStatus.DUPLICATE] * 4
    assert [r.hazard_id for r in again] == [hid, hid, hid, other]
    assert _count(ctx, ObservationRow) == 3 and _count(ctx, EvidenceRow) == 3
    assert verify_audit_chain(ctx).ok


def test_batch_mixing_new_append_reopen_duplicate_and_recorded(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    cam = hz.ingest_observation(ctx, make_obs(1, clock.now()))
    leak = _closed_leak(ctx, clock, make_obs, actors)
    clock.advance(timedelta(hours=1))
    audit_before, now = _count(ctx, AuditRow), clock.now()
    results = hz.ingest_observations(
        ctx,
        [
            make_obs(2, now),  # the open camera hazard again
            make_obs(3, now, source_id="cam9"),  # another camera: new hazard
            make_obs(4, now, source_id="up1", **LEAK),  # the closed leak reappears: reopen
            make_obs(5, now, source_id="up2", **LEAK),  # ... and now it is open: append to it
            make_obs(1, now),  # stored before this batch
            make_obs(6, now, kind="ppe.ok"),  # counted only
            make_obs(7, now, source_id="cam9"),  # appends to the hazard created by item 2
        ],
    )
    assert [(r.status, r.hazard_id) for r in results] == [
        (IngestStatus.APPENDED, cam.hazard_id),
        (IngestStatus.CREATED, results[1].hazard_id),
        (IngestStatus.REOPENED, leak),
        (IngestStatus.APPENDED, leak),
        (IngestStatus.DUPLICATE, cam.hazard_id),
        (IngestStatus.RECORDED, None),
        (IngestStatus.APPENDED, results[1].hazard_id),
    ]
    assert results[1].hazard_id not in (None, cam.hazard_id, leak)
    reopened = hazard_detail(ctx, leak)
    assert reopened.hazard.state is HazardState.REGISTERED and reopened.hazard.reopen_count == 1
    # Original evidence kept, new evidence appended after it without gaps.
    assert [e.seq for e in reopened.evidence] == list(range(1, len(reopened.evidence) + 1))
    assert [e.object_keys for e in reopened.evidence][-2:] == [("snap/4.jpg",), ("snap/5.jpg",)]
    assert reopened.hazard.evidence_count == len(reopened.evidence)
    assert [e.action for e in reopened.events][-1] == "reopen"
    new = hazard_detail(ctx, results[1].hazard_id or 0)
    assert new.hazard.evidence_count == 2 and [e.seq for e in new.evidence] == [1, 2]
    assert new.hazard.last_seen_at == now and [e.action for e in new.events] == ["discover"]
    # Audit: one reopen step plus one entry per observation that reached a hazard, in batch order.
    with ctx.uow() as uow:
        stmt = select(AuditRow.action).where(AuditRow.seq > audit_before).order_by(AuditRow.seq)
        actions = list(uow.session.scalars(stmt))
    assert actions == [
        "observation.appended",
        "observation.created",
        "hazard.reopen",
        "observation.reopened",
        "observation.appended",
        "observation.appended",
    ]
    assert verify_audit_chain(ctx).ok


def test_a_failing_item_rolls_back_the_whole_batch(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    leak = _closed_leak(ctx, clock, make_obs, actors)
    closed_at = clock.now()
    clock.set(closed_at - timedelta(minutes=30))  # the server clock went back: reopening would precede close
    counts = {m: _count(ctx, m) for m in (HazardRow, ObservationRow, EvidenceRow, HazardEventRow, AuditRow)}
    now = clock.now()
    batch = [make_obs(1, now), make_obs(2, now, source_id="cam2"), make_obs(3, now, source_id="up1", **LEAK)]
    with pytest.raises(ClockSkew, match=r"observation 'obs-3' \(item 3 of 3\).*nothing from this batch"):
        hz.ingest_observations(ctx, batch)
    assert {m: _count(ctx, m) for m in counts} == counts
    assert hazard_detail(ctx, leak).hazard.state is HazardState.CLOSED
    assert verify_audit_chain(ctx).ok
    # Once the clock is right again the same batch goes through in full.
    clock.set(closed_at + timedelta(minutes=1))
    statuses = [r.status for r in hz.ingest_observations(ctx, batch)]
    assert statuses == [IngestStatus.CREATED, IngestStatus.CREATED, IngestStatus.REOPENED]
    assert verify_audit_chain(ctx).ok


def test_a_future_item_refuses_the_batch_before_any_write(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    now = clock.now()
    with pytest.raises(ClockSkew):
        hz.ingest_observations(ctx, [make_obs(1, now), make_obs(2, now + timedelta(hours=1))])
    assert _count(ctx, ObservationRow) == 0 and _count(ctx, AuditRow) == 0


def test_repeat_counts_include_earlier_items_of_the_same_batch(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    now = clock.now()
    hz.ingest_observation(ctx, make_obs(0, now, source_id="cam0", equipment_id="P-1"))
    results = hz.ingest_observations(
        ctx, [make_obs(n, now, source_id=f"cam{n}", equipment_id="P-1") for n in (1, 2, 3)]
    )
    assert [r.status for r in results] == [IngestStatus.CREATED] * 3
    # Stored: 1 unresolved; the batch adds the 2nd (not yet 3) and then the 3rd and 4th (flagged).
    assert [r.repeat_flagged for r in results] == [False, True, True]
    assert hazard_detail(ctx, results[1].hazard_id or 0).hazard.escalation_level == 1


@pytest.mark.integration
def test_bulk_evidence_update_keeps_the_optimistic_lock(
    pg_engine: Engine, clock: FakeClock, make_obs: ObsFactory
) -> None:
    """A hazard changed by someone else after this transaction read it: the batch's versioned update
    conflicts instead of overwriting (PostgreSQL; SQLite serialises the two writers instead)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    ctx = WorkflowContext(make_session_factory(pg_engine), clock)
    view, _ = create_user(ctx, "insp", Role.INSPECTOR)
    inspector = Actor(view.id, view.name, view.role)
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now())).hazard_id
    assert hid is not None
    with pytest.raises(ConcurrencyConflict), ctx.uow() as mine:
        seen = mine.repo.hazard(hid)  # read (and held) at version N
        hz.register(ctx, hid, inspector)  # another transaction commits version N + 1
        hz.ingest_in(mine, ctx, make_obs(2, clock.now()))
        assert seen.version is not None
        mine.commit()
    detail = hazard_detail(ctx, hid)
    assert detail.hazard.evidence_count == 1 and detail.hazard.state is HazardState.REGISTERED
    assert verify_audit_chain(ctx).ok


@pytest.mark.integration
def test_the_same_batch_racing_itself_is_stored_once(
    pg_engine: Engine, clock: FakeClock, make_obs: ObsFactory
) -> None:
    """Two workers deliver the same camera tick at once: the loser's insert hits the stored ids, its
    retry reports duplicates of the winner's hazards, and nothing is stored twice."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    ctx = WorkflowContext(make_session_factory(pg_engine), clock)
    batch = [make_obs(n, clock.now(), source_id=f"cam{n}") for n in range(5)]
    barrier = threading.Barrier(2)
    outcomes: list[list[IngestResult]] = []

    def deliver() -> None:
        barrier.wait()
        outcomes.append(hz.ingest_observations(ctx, batch))

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert len(outcomes) == 2
    statuses = sorted(tuple(sorted({r.status.value for r in results})) for results in outcomes)
    assert statuses == [("created",), ("duplicate",)]
    assert [r.hazard_id for r in outcomes[0]] == [r.hazard_id for r in outcomes[1]]
    assert _count(ctx, HazardRow) == 5 and _count(ctx, ObservationRow) == 5 and _count(ctx, EvidenceRow) == 5
    assert verify_audit_chain(ctx).ok


def test_findings_of_one_photo_are_one_evidence_item_with_every_box(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    """Three bare heads in one photo are one evidence item listing the three boxes; another image of the
    same hazard (a camera crop per box) is an item of its own; verification re-checks all four boxes."""
    now = clock.now()
    photo = {"source_kind": SourceKind.PHOTO, "source_id": "up1"}
    pair = ("orig.jpg", "drawn.jpg")
    batch = [
        make_obs(1, now, confidence=0.5, box=(10.0, 10.0, 20.0, 20.0), evidence_keys=pair, **photo),
        make_obs(2, now, confidence=0.8, box=(30.5, 10.0, 40.0, 20.0), evidence_keys=pair, **photo),
        make_obs(3, now, confidence=0.6, box=(50.0, 10.0, 60.0, 20.0), evidence_keys=pair, **photo),
        make_obs(4, now, confidence=0.7, box=(1.0, 2.0, 3.0, 4.0), evidence_keys=("x.jpg",), **photo),
    ]
    results = hz.ingest_observations(ctx, batch)
    assert [r.status for r in results] == [IngestStatus.CREATED] + [IngestStatus.APPENDED] * 3
    hid = results[0].hazard_id
    assert hid is not None and {r.hazard_id for r in results} == {hid}
    detail = hazard_detail(ctx, hid)
    assert detail.hazard.evidence_count == 2
    assert [(e.seq, e.object_keys) for e in detail.evidence] == [(1, pair), (2, ("x.jpg",))]
    first = json.loads(detail.evidence[0].payload or "{}")
    assert first["detections"] == 3 and first["confidence"] == 0.8
    assert first["box"] == "10,10,20,20"
    assert first["boxes"] == "10,10,20,20;30.5,10,40,20;50,10,60,20"
    single = json.loads(detail.evidence[1].payload or "{}")
    assert "boxes" not in single and "detections" not in single and single["box"] == "1,2,3,4"
    # Every observation is still on record, linked to the hazard.
    assert _count(ctx, ObservationRow) == 4
    subject = verification_subject(ctx, hid)
    assert [(t.before_key, t.box) for t in subject.targets] == [
        ("orig.jpg", (10.0, 10.0, 20.0, 20.0)),
        ("orig.jpg", (30.5, 10.0, 40.0, 20.0)),
        ("orig.jpg", (50.0, 10.0, 60.0, 20.0)),
        ("x.jpg", (1.0, 2.0, 3.0, 4.0)),
    ]
    assert verify_audit_chain(ctx).ok
