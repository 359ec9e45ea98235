"""Every mutating step raced by 8 writers at once, on SQLite and PostgreSQL (issue 12, 9).

The promise: each racer ends in success or a documented refusal (a DomainError: 4xx/409), never an
integrity error or a 500; a transition happens exactly once; appends all land, numbered without gaps;
an acknowledgement is recorded once; the audit chain verifies afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.workflow.conftest import ObsFactory
from tests.support.race import race
from tests.support.workflow_seeds import new_photo
from workflow.domain.clock import FakeClock
from workflow.domain.errors import DomainError
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.lifecycle import HazardState
from workflow.domain.permits import PermitRequest, PermitStatus, PermitType
from workflow.domain.roles import Actor, Role
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.orm import AuditRow
from workflow.persistence.photo_rows import PhotoRow
from workflow.services import hazards as hz
from workflow.services import permits as pm
from workflow.services import sensors as sn
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.photos import record_upload
from workflow.services.queries import hazard_detail
from workflow.services.users import create_user
from workflow.services.zones import Zone, upsert_zone

pytestmark = pytest.mark.integration
WRITERS = 8
RESOLVED = VerificationOutcome(Verdict.RESOLVED, 0.93, 120, 0.02)
AT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _audit_actions(ctx: WorkflowContext, action: str) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).where(AuditRow.action == action)) or 0)


def _exactly_one_wins(outcomes: list[BaseException | None]) -> None:
    wins = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if o is not None]
    assert len(wins) == 1, outcomes
    assert all(isinstance(o, DomainError) for o in refused), refused


def _hazard_in(ctx: WorkflowContext, a: dict[str, Actor], obs: ObsFactory, state: HazardState) -> int:
    result = hz.ingest_observation(ctx, obs(1, AT))
    assert result.hazard_id is not None
    hid = result.hazard_id
    path: list[tuple[HazardState, Callable[[], object]]] = [
        (HazardState.REGISTERED, lambda: hz.register(ctx, hid, a["insp"])),
        (HazardState.DISPATCHED, lambda: hz.dispatch(ctx, hid, a["eng"], "fixer")),
        (HazardState.IN_RECTIFICATION, lambda: hz.start(ctx, hid, a["fixer"])),
        (HazardState.RECTIFIED, lambda: hz.rectify(ctx, hid, a["fixer"], ["after/0.jpg"], RESOLVED)),
        (HazardState.REVIEWED, lambda: hz.review(ctx, hid, a["rev"], approve=True)),
        (HazardState.CLOSED, lambda: hz.close(ctx, hid, a["rev"])),
    ]
    for reached, step in path:
        if hazard_detail(ctx, hid).hazard.state is state:
            break
        step()
        assert hazard_detail(ctx, hid).hazard.state is reached
    assert hazard_detail(ctx, hid).hazard.state is state
    return hid


Step = Callable[[WorkflowContext, int, dict[str, Actor], int], object]
S = HazardState

# name: (state the hazard is raced in, the racing step given writer i, the state after the one winner)
STEPS: dict[str, tuple[HazardState, Step, HazardState]] = {
    "register": (S.DISCOVERED, lambda c, h, a, i: hz.register(c, h, a["insp"]), S.REGISTERED),
    "dispatch": (S.REGISTERED, lambda c, h, a, i: hz.dispatch(c, h, a["eng"], f"crew-{i}"), S.DISPATCHED),
    "start": (S.DISPATCHED, lambda c, h, a, i: hz.start(c, h, a["fixer"]), S.IN_RECTIFICATION),
    "rectify": (
        S.IN_RECTIFICATION,
        lambda c, h, a, i: hz.rectify(c, h, a["fixer"], [f"after/{i}.jpg"], RESOLVED),
        S.RECTIFIED,
    ),
    "approve": (  # two distinct reviewers race
        S.RECTIFIED,
        lambda c, h, a, i: hz.review(c, h, a["rev" if i % 2 else "rev2"], approve=True),
        S.REVIEWED,
    ),
    "reject": (
        S.RECTIFIED,
        lambda c, h, a, i: hz.review(c, h, a["rev"], approve=False, reason=f"no {i}"),
        S.IN_RECTIFICATION,
    ),
    "close": (S.REVIEWED, lambda c, h, a, i: hz.close(c, h, a["rev"]), S.CLOSED),
    "reopen": (S.CLOSED, lambda c, h, a, i: hz.reopen(c, h, a["eng"], f"seen again {i}"), S.REGISTERED),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_raced_transition_happens_exactly_once(
    step: str, ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    before, act, after = STEPS[step]
    hid = _hazard_in(ctx, actors, make_obs, before)
    evidence_before = len(hazard_detail(ctx, hid).evidence)
    outcomes = race([(lambda i=i: act(ctx, hid, actors, i)) for i in range(WRITERS)])
    _exactly_one_wins(outcomes)
    detail = hazard_detail(ctx, hid)
    assert detail.hazard.state is after
    seqs = [e.seq for e in detail.evidence]
    assert seqs == list(range(1, len(seqs) + 1))
    grew = len(seqs) - evidence_before
    # The winner's after photo and its verification; no loser's photo lands.
    assert grew == (2 if step == "rectify" else 0)
    assert verify_audit_chain(ctx).ok


def test_raced_observations_of_one_hazard_all_become_its_evidence(
    ctx: WorkflowContext, make_obs: ObsFactory
) -> None:
    first = hz.ingest_observation(ctx, make_obs(0, AT))
    outcomes = race(
        [(lambda i=i: hz.ingest_observation(ctx, make_obs(i, AT))) for i in range(1, WRITERS + 1)]
    )
    assert outcomes == [None] * WRITERS, outcomes
    assert first.hazard_id is not None
    detail = hazard_detail(ctx, first.hazard_id)
    assert [e.seq for e in detail.evidence] == list(range(1, WRITERS + 2))
    assert verify_audit_chain(ctx).ok


def test_raced_permit_requests_and_approvals(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    upsert_zone(ctx, Zone("tank-3", "Tank 3", "area-b", frozenset({PermitType.HOT_WORK})), actors["boss"])
    now = clock.now()
    req = PermitRequest(PermitType.HOT_WORK, "tank-3", now, now + timedelta(hours=4))
    made: list[int] = []
    outcomes = race([(lambda: made.append(pm.request_permit(ctx, req, actors["eng"]).permit_id))] * WRITERS)
    assert outcomes == [None] * WRITERS, outcomes
    assert len(set(made)) == WRITERS
    # Two approvals are needed; 8 racing approvers (two distinct people, four times each).
    permit = made[0]
    outcomes = race([(lambda i=i: pm.approve_permit(ctx, permit, actors["eng2" if i % 2 else "boss"]))
                     for i in range(WRITERS)])  # fmt: skip
    assert sum(o is None for o in outcomes) == 2, outcomes
    assert all(o is None or isinstance(o, DomainError) for o in outcomes), outcomes
    assert pm.permits_valid_at(ctx, "tank-3", now)[0].status is PermitStatus.ACTIVE
    assert _audit_actions(ctx, "permit.approve") == 2
    assert verify_audit_chain(ctx).ok


def test_raced_alert_acknowledgements_record_one(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(
        ctx, SensorDefinition("h2s-1", "z1", "ppm", tiers_with_hysteresis((5.0,), 0.5)), actors["eng"]
    )
    (alert,) = sn.ingest_reading(ctx, "h2s-1", 9.0, clock.now())
    outcomes = race([(lambda: sn.acknowledge_alert(ctx, alert.id, actors["rev"]))] * WRITERS)
    _exactly_one_wins(outcomes)
    assert _audit_actions(ctx, "alert.ack") == 1
    assert verify_audit_chain(ctx).ok


def test_raced_sensor_readings_users_and_zones_all_land(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(
        ctx, SensorDefinition("co-1", "z1", "ppm", tiers_with_hysteresis((50.0,), 5.0)), actors["eng"]
    )
    t0 = clock.now()
    work: list[Callable[[], object]] = []
    for i in range(WRITERS):
        work.append(lambda i=i: sn.ingest_reading(ctx, "co-1", 10.0 + i, t0 + timedelta(seconds=i)))
        work.append(lambda i=i: create_user(ctx, f"worker-{i}", Role.INSPECTOR))
        work.append(lambda i=i: upsert_zone(ctx, Zone(f"zone-{i % 2}", f"Zone {i}", "area-a", frozenset()),
                                            actors["boss"]))  # fmt: skip
    outcomes = race(work)
    # A reading older than the sensor's latest is a documented refusal (clock skew); nothing else may fail.
    assert all(o is None or isinstance(o, DomainError) for o in outcomes), outcomes
    assert all(o is None for o in outcomes[1::3] + outcomes[2::3]), outcomes
    assert verify_audit_chain(ctx).ok


def test_raced_uploads_without_a_key_are_all_recorded_and_a_repeated_one_once(ctx: WorkflowContext) -> None:
    created: list[bool] = []
    outcomes = race(
        [(lambda n=n: created.append(record_upload(ctx, new_photo(n), None)[1])) for n in range(WRITERS)]
    )
    assert outcomes == [None] * WRITERS, outcomes
    assert created == [True] * WRITERS
    same: list[bool] = []
    outcomes = race([(lambda: same.append(record_upload(ctx, new_photo(99), None)[1]))] * WRITERS)
    assert outcomes == [None] * WRITERS, outcomes
    assert sorted(same) == [False] * (WRITERS - 1) + [True]
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PhotoRow)) == WRITERS + 1
    assert verify_audit_chain(ctx).ok
