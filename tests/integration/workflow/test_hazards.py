"""Hazard use cases on SQLite and PostgreSQL: lifecycle, intake, evidence rules, escalation, audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from workflow.domain.clock import FakeClock
from workflow.domain.errors import (
    ClockSkew,
    ConcurrencyConflict,
    EvidenceRuleViolation,
    IllegalTransition,
    ImmutableRecord,
    InvalidInput,
    NotFound,
    Unauthorised,
)
from workflow.domain.evidence import EvidenceKind, Verdict, VerificationOutcome
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.orm import AuditRow, EvidenceRow
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.escalation import escalation_sweep
from workflow.services.queries import HazardFilter, hazard_detail, list_hazards, repeat_report
from workflow.services.verification import append_verification

pytestmark = pytest.mark.integration
ObsFactory = Callable[..., Observation]
H = timedelta(hours=1)
RESOLVED = VerificationOutcome(Verdict.RESOLVED, 0.93, 120, 0.02)


def _audit_count(ctx: WorkflowContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AuditRow)) or 0)


def test_full_lifecycle_with_escalation(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    res = hz.ingest_observation(ctx, make_obs(1, clock.now(), kind="permit.no_valid_permit"))
    assert res.status is IngestStatus.CREATED and res.hazard_id is not None
    hid = res.hazard_id
    assert hazard_detail(ctx, hid).hazard.level is RiskLevel.RED
    hz.register(ctx, hid, u["insp"])
    # Red: respond within 2 h. 3 h 59 min without dispatch is 1 h 59 min overdue: no escalation yet.
    clock.advance(3 * H + timedelta(minutes=59))
    assert escalation_sweep(ctx) == []
    clock.advance(timedelta(minutes=1))
    (step,) = escalation_sweep(ctx)
    assert (step.hazard_id, step.from_level, step.to_level, step.responsible) == (
        hid,
        0,
        1,
        "workshop_manager",
    )
    assert escalation_sweep(ctx) == []  # idempotent
    clock.advance(2 * H)
    assert [s.to_level for s in escalation_sweep(ctx)] == [2]
    hz.dispatch(ctx, hid, u["eng"], assignee="fixer")
    clock.advance(H)
    hz.start(ctx, hid, u["fixer"])
    clock.advance(H)
    hz.rectify(ctx, hid, u["fixer"], ["after/1.jpg"], RESOLVED)
    fixer_as_reviewer = Actor(u["fixer"].user_id, "fixer", Role.REVIEWER)
    with pytest.raises(Unauthorised, match="reviewer must not be"):
        hz.review(ctx, hid, fixer_as_reviewer, approve=True)
    hz.review(ctx, hid, u["rev"], approve=True)
    closed = hz.close(ctx, hid, u["rev"])
    assert closed.state is HazardState.CLOSED and closed.closed_at == clock.now()
    detail = hazard_detail(ctx, hid)
    assert [e.action for e in detail.events] == [
        "discover",
        "register",
        "escalate",
        "escalate",
        "dispatch",
        "start",
        "rectify",
        "approve",
        "close",
    ]
    assert all(e.at is not None and e.actor_name for e in detail.events)
    kinds = [e.kind for e in detail.evidence]
    assert kinds == [EvidenceKind.SNAPSHOT, EvidenceKind.AFTER_PHOTO, EvidenceKind.VERIFICATION]
    assert [e.seq for e in detail.evidence] == [1, 2, 3]
    assert detail.evidence[0].object_keys == ("snap/1.jpg",)
    assert verify_audit_chain(ctx).ok


def test_thirty_snapshots_are_one_hazard(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    ids = set()
    for n in range(30):
        res = hz.ingest_observation(ctx, make_obs(n, clock.now()))
        ids.add(res.hazard_id)
        assert res.status is (IngestStatus.CREATED if n == 0 else IngestStatus.APPENDED)
        clock.advance(timedelta(seconds=10))
    (hid,) = ids
    assert hid is not None
    detail = hazard_detail(ctx, hid)
    assert detail.hazard.evidence_count == 30 and len(detail.evidence) == 30
    assert [e.object_keys for e in detail.evidence] == [(f"snap/{n}.jpg",) for n in range(30)]
    # Another camera is another hazard; a retried observation is a duplicate.
    other = hz.ingest_observation(ctx, make_obs(99, clock.now(), source_id="cam2"))
    assert other.status is IngestStatus.CREATED and other.hazard_id != hid
    dup = hz.ingest_observation(ctx, make_obs(5, clock.now()))
    assert (dup.status, dup.hazard_id) == (IngestStatus.DUPLICATE, hid)
    assert hazard_detail(ctx, hid).hazard.evidence_count == 30


def test_dedup_window_expiry_opens_a_new_hazard(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    first = hz.ingest_observation(ctx, make_obs(1, clock.now()))
    clock.advance(ctx.config.dedup_window + H)
    second = hz.ingest_observation(ctx, make_obs(2, clock.now()))
    assert second.status is IngestStatus.CREATED and second.hazard_id != first.hazard_id


def test_a_hazard_seen_continuously_stays_one_hazard_beyond_the_window(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    """The 8 h window runs from the last sighting, not the first: nine sightings 3 h apart (24 h in all)
    are one hazard, whose last sighting is the ninth."""
    start, results = clock.now(), []
    for n in range(9):
        results.append(hz.ingest_observation(ctx, make_obs(n, clock.now())))
        clock.advance(3 * H)
    assert [r.status for r in results] == [IngestStatus.CREATED] + [IngestStatus.APPENDED] * 8
    assert {r.hazard_id for r in results} == {results[0].hazard_id}
    hid = results[0].hazard_id
    assert hid is not None
    hazard = hazard_detail(ctx, hid).hazard
    assert (hazard.evidence_count, hazard.last_seen_at) == (9, start + 24 * H)


def test_a_continuous_sighting_in_one_batch_stays_one_hazard(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    start = clock.now()
    clock.advance(24 * H)
    batch = [make_obs(n, start + n * 3 * H) for n in range(9)]
    results = hz.ingest_observations(ctx, batch)
    assert [r.status for r in results] == [IngestStatus.CREATED] + [IngestStatus.APPENDED] * 8
    hid = results[0].hazard_id
    assert hid is not None and {r.hazard_id for r in results} == {hid}
    assert hazard_detail(ctx, hid).hazard.last_seen_at == start + 24 * H


@pytest.mark.parametrize(
    ("gap", "status"),
    [(timedelta(hours=8), IngestStatus.APPENDED), (timedelta(hours=8, microseconds=1), IngestStatus.CREATED)],
)
def test_the_dedup_window_is_eight_hours_inclusive(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, gap: timedelta, status: IngestStatus
) -> None:
    first = hz.ingest_observation(ctx, make_obs(1, clock.now()))
    clock.advance(gap)
    second = hz.ingest_observation(ctx, make_obs(2, clock.now()))
    assert second.status is status
    assert (second.hazard_id == first.hazard_id) is (status is IngestStatus.APPENDED)


def test_low_confidence_and_ppe_ok_open_nothing(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    floor = replace(ctx, config=replace(ctx.config, min_confidence=0.25))  # an operator's own floor
    assert (
        hz.ingest_observation(floor, make_obs(1, clock.now(), confidence=0.1)).status is IngestStatus.RECORDED
    )
    ok = hz.ingest_observation(ctx, make_obs(2, clock.now(), kind="ppe.ok"))
    assert (ok.status, ok.hazard_id) == (IngestStatus.RECORDED, None)
    assert list_hazards(ctx, HazardFilter()).total == 0
    # By default there is no floor of the workflow's own: the model card's threshold already decided.
    low = hz.ingest_observation(ctx, make_obs(3, clock.now(), confidence=0.16))
    assert low.status is IngestStatus.CREATED


def _walk_to_closed(ctx: WorkflowContext, hid: int, u: dict[str, Actor], clock: FakeClock) -> None:
    def a(name: str) -> Actor:
        return u[name]

    hz.register(ctx, hid, a("insp"))
    hz.dispatch(ctx, hid, a("eng"))
    hz.start(ctx, hid, a("fixer"))
    hz.rectify(ctx, hid, a("fixer"), ["after.jpg"], RESOLVED)
    hz.review(ctx, hid, a("rev"), approve=True)
    hz.close(ctx, hid, a("rev"))
    clock.advance(H)


def test_new_occurrence_at_equipment_reopens(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    leak = {"kind": "leak.leak", "source_kind": SourceKind.PHOTO, "source_id": "up1", "equipment_id": "FL-7"}
    res = hz.ingest_observation(ctx, make_obs(1, clock.now(), **leak))
    assert res.hazard_id is not None
    _walk_to_closed(ctx, res.hazard_id, u, clock)
    again = hz.ingest_observation(ctx, make_obs(2, clock.now(), **{**leak, "source_id": "up2"}))
    assert (again.status, again.hazard_id) == (IngestStatus.REOPENED, res.hazard_id)
    view = hazard_detail(ctx, res.hazard_id).hazard
    assert view.state is HazardState.REGISTERED and view.reopen_count == 1 and view.closed_at is None


def test_repeats_escalate_and_are_reported(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    results = []
    for n in range(3):  # three cameras, same kind, same equipment, all unresolved
        results.append(
            hz.ingest_observation(ctx, make_obs(n, clock.now(), source_id=f"cam{n}", equipment_id="P-1"))
        )
        clock.advance(H)
    assert [r.repeat_flagged for r in results] == [False, False, True]
    third = results[2].hazard_id
    assert third is not None
    assert hazard_detail(ctx, third).hazard.escalation_level == 1
    (row,) = repeat_report(ctx)
    assert (row.kind, row.equipment_id, row.unresolved, row.in_window) == ("ppe.no_helmet", "P-1", 3, 3)


def test_roles_order_and_no_partial_writes(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now())).hazard_id
    assert hid is not None
    before = _audit_count(ctx)
    with pytest.raises(Unauthorised):
        hz.register(ctx, hid, u["fixer"])
    with pytest.raises(IllegalTransition):
        hz.review(ctx, hid, u["rev"], approve=True)  # review before rectification
    with pytest.raises(IllegalTransition):
        hz.close(ctx, hid, u["boss"])
    with pytest.raises(NotFound):
        hz.register(ctx, 999_999, u["insp"])
    seen = hazard_detail(ctx, hid).hazard.version
    with pytest.raises(ConcurrencyConflict):
        hz.register(ctx, hid, u["insp"], expected_version=seen - 1)  # acted on a stale view
    hz.register(ctx, hid, u["insp"], expected_version=seen)
    with pytest.raises(Unauthorised):
        hz.dispatch(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    with pytest.raises(InvalidInput):
        hz.rectify(ctx, hid, u["fixer"], [], RESOLVED)
    view = hazard_detail(ctx, hid)
    assert view.hazard.state is HazardState.IN_RECTIFICATION
    assert _audit_count(ctx) == before + 3  # only the three successful steps were written
    assert len(view.evidence) == 1


def test_out_of_order_and_future_timestamps(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    with pytest.raises(ClockSkew):
        hz.ingest_observation(ctx, make_obs(1, clock.now() + timedelta(minutes=10)))
    hid = hz.ingest_observation(ctx, make_obs(2, clock.now())).hazard_id
    assert hid is not None
    hz.register(ctx, hid, u["insp"])
    clock.set(clock.now() - H)  # the server clock jumped back
    with pytest.raises(ClockSkew):
        hz.dispatch(ctx, hid, u["eng"])


def test_failed_verification_needs_a_reviewer_override(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now())).hazard_id
    assert hid is not None
    hz.register(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    hz.rectify(ctx, hid, u["fixer"], ["a.jpg"], VerificationOutcome(Verdict.NEEDS_REINSPECTION, 0.6, 12))
    with pytest.raises(InvalidInput):
        hz.review(ctx, hid, u["rev"], approve=False)  # a rejection needs a reason
    hz.review(ctx, hid, u["rev"], approve=False, reason="bolt still weeping")
    hz.rectify(ctx, hid, u["fixer"], ["b.jpg"], VerificationOutcome(Verdict.NOT_RESOLVED, 0.9, 80, 0.7))
    hz.review(ctx, hid, u["rev"], approve=True)
    with pytest.raises(EvidenceRuleViolation):
        hz.close(ctx, hid, u["rev"])
    with pytest.raises(Unauthorised):
        hz.close(ctx, hid, u["eng"], override_reason="looks fine")
    closed = hz.close(ctx, hid, u["rev2"], override_reason="checked on site")
    assert closed.state is HazardState.CLOSED
    detail = hazard_detail(ctx, hid)
    assert detail.evidence[-1].kind is EvidenceKind.OVERRIDE
    assert "checked on site" in (detail.evidence[-1].payload or "")
    assert verify_audit_chain(ctx).ok


def test_evidence_is_immutable(ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory) -> None:
    hz.ingest_observation(ctx, make_obs(1, clock.now()))
    with ctx.uow() as uow:
        row = uow.session.scalars(select(EvidenceRow)).one()
        row.object_keys = '["forged.jpg"]'
        with pytest.raises(ImmutableRecord):
            uow.flush()
    with ctx.uow() as uow:
        row = uow.session.scalars(select(EvidenceRow)).one()
        uow.session.delete(row)
        with pytest.raises(ImmutableRecord):
            uow.flush()
    with ctx.uow() as uow:
        assert uow.session.scalars(select(EvidenceRow)).one().object_keys == '["snap/1.jpg"]'


def test_audit_detects_edit_and_delete(ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory) -> None:
    for n in range(4):
        hz.ingest_observation(ctx, make_obs(n, clock.now(), source_id=f"cam{n}"))
    assert verify_audit_chain(ctx).ok and verify_audit_chain(ctx).checked == 4
    with ctx.session_factory.begin() as s:  # tampering behind the domain's back
        s.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    bad = verify_audit_chain(ctx)
    assert not bad.ok and bad.first_bad_seq == 2
    with ctx.session_factory.begin() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert not verify_audit_chain(ctx).ok
    with ctx.session_factory.begin() as s:
        s.execute(text("DELETE FROM audit_log WHERE seq >= 2"))
    tail = verify_audit_chain(ctx)
    assert not tail.ok and "head says 4" in tail.reason


def test_list_filters_pagination_overdue_first(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    kinds = ["ppe.no_helmet", "leak.leak", "permit.no_valid_permit"]
    for n in range(9):
        hz.ingest_observation(
            ctx,
            make_obs(n, clock.now(), kind=kinds[n % 3], source_id=f"cam{n}", zone="z1" if n < 6 else "z2"),
        )
        clock.advance(timedelta(minutes=1))
    page = list_hazards(ctx, HazardFilter(), limit=4)
    assert page.total == 9 and len(page.items) == 4
    fixes = [h.fix_by for h in list_hazards(ctx, HazardFilter(), limit=9).items]
    assert fixes == sorted(fixes)
    assert list_hazards(ctx, HazardFilter(), limit=9).items[0].level is RiskLevel.RED
    second = list_hazards(ctx, HazardFilter(), offset=4, limit=4)
    assert not {h.id for h in page.items} & {h.id for h in second.items}
    assert list_hazards(ctx, HazardFilter(levels=(RiskLevel.RED,))).total == 3
    assert list_hazards(ctx, HazardFilter(area="z2")).total == 3
    assert list_hazards(ctx, HazardFilter(states=(HazardState.CLOSED,))).total == 0
    assert list_hazards(ctx, HazardFilter(overdue_only=True)).total == 0
    clock.advance(timedelta(hours=25))
    assert list_hazards(ctx, HazardFilter(overdue_only=True)).total == 3  # the red ones
    with pytest.raises(InvalidInput):
        list_hazards(ctx, HazardFilter(), limit=0)


def test_a_queued_verification_blocks_close_until_it_reports(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    u = actors
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now())).hazard_id
    assert hid is not None
    hz.register(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    rectified = hz.rectify(ctx, hid, u["fixer"], ["after.jpg"], None, verification_queued=True)
    hz.review(ctx, hid, u["rev"], approve=True)
    with pytest.raises(EvidenceRuleViolation, match="pending"):
        hz.close(ctx, hid, u["rev"])
    append_verification(
        ctx,
        hid,
        rectified.evidence_count,
        VerificationOutcome(Verdict.RESOLVED, 0.95, 120, 0.05),
        (),
        "worker",
    )
    assert hz.close(ctx, hid, u["rev"]).state is HazardState.CLOSED


def test_each_reopening_is_counted_and_keeps_its_reason(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now(), equipment_id="FL-9")).hazard_id
    assert hid is not None
    _walk_to_closed(ctx, hid, actors, clock)
    for count, reason in ((1, "leak seen again at FL-9"), (2, "the clamp slipped")):
        if count == 2:  # back to closed from registered
            hz.dispatch(ctx, hid, actors["eng"])
            hz.start(ctx, hid, actors["fixer"])
            hz.rectify(ctx, hid, actors["fixer"], ["after2.jpg"], RESOLVED)
            hz.review(ctx, hid, actors["rev"], approve=True)
            hz.close(ctx, hid, actors["rev"])
        view = hz.reopen(ctx, hid, actors["eng"], reason)
        assert (view.state, view.reopen_count) == (HazardState.REGISTERED, count)
        event = hazard_detail(ctx, hid).events[-1]
        assert (event.action, event.from_state, event.to_state, event.reason) == (
            "reopen", HazardState.CLOSED, HazardState.REGISTERED, reason
        )  # fmt: skip


def test_the_rectifier_may_not_review_their_own_work(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]
) -> None:
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now())).hazard_id
    assert hid is not None
    hz.register(ctx, hid, actors["insp"])
    hz.dispatch(ctx, hid, actors["eng"])
    hz.start(ctx, hid, actors["boss"])  # an admin may rectify and may review, but not both on one hazard
    hz.rectify(ctx, hid, actors["boss"], ["after.jpg"], RESOLVED)
    with pytest.raises(Unauthorised) as error:
        hz.review(ctx, hid, actors["boss"], approve=True)
    assert str(error.value) == "the reviewer must not be the person who rectified the hazard"
