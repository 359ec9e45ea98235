"""Sensors, permits, users and KPIs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import ClockSkew, InvalidInput, NotFound, Unauthorised
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import Observation, SourceKind
from workflow.domain.permits import PermitRequest, PermitStatus, PermitType, PresenceCheck, PresenceVerdict
from workflow.domain.roles import Actor, Role
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.orm import AlertRow, AuditRow, HazardRow
from workflow.services import hazards as hz
from workflow.services import permits as pm
from workflow.services import sensors as sn
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.kpis import compute_kpis
from workflow.services.queries import hazard_detail
from workflow.services.users import authenticate, create_user
from workflow.services.zones import Zone, upsert_zone

pytestmark = pytest.mark.integration
ObsFactory = Callable[..., Observation]
CL2 = SensorDefinition(
    "cl2-1", "z1", "ppm", tiers_with_hysteresis((1.0, 3.0), 0.2), stale_after=timedelta(minutes=5)
)


def _count(ctx: WorkflowContext, table: type) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def test_sensor_tiers_alerts_and_hazard(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CL2, actors["eng"])
    t = clock.now()
    assert sn.ingest_reading(ctx, "cl2-1", 0.4, t) == []
    (up,) = sn.ingest_reading(ctx, "cl2-1", 1.5, t + timedelta(seconds=1))
    assert (up.kind, up.tier, up.previous_tier, up.value, up.acknowledged) == (
        "sensor.tier",
        2,
        1,
        1.5,
        False,
    )
    assert up.hazard_id is not None
    hazard = hazard_detail(ctx, up.hazard_id).hazard
    assert (hazard.kind, hazard.zone, hazard.state) == ("sensor.tier2", "z1", HazardState.DISCOVERED)
    (up3,) = sn.ingest_reading(ctx, "cl2-1", 3.5, t + timedelta(seconds=2))
    assert up3.tier == 3 and up3.hazard_id is not None and up3.hazard_id != up.hazard_id
    (down,) = sn.ingest_reading(ctx, "cl2-1", 0.1, t + timedelta(seconds=3))
    assert (down.tier, down.previous_tier, down.hazard_id) == (1, 3, None)
    assert len(sn.list_alerts(ctx)) == 3
    sn.acknowledge_alert(ctx, up.id, actors["eng"])
    assert len(sn.list_alerts(ctx, unacknowledged_only=True)) == 2
    assert verify_audit_chain(ctx).ok


def test_bad_readings_write_nothing(ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]) -> None:
    sn.define_sensor(ctx, CL2, actors["eng"])
    t = clock.now()
    sn.ingest_reading(ctx, "cl2-1", 0.5, t)
    audit_before, alerts_before = _count(ctx, AuditRow), _count(ctx, AlertRow)
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(InvalidInput):
            sn.ingest_reading(ctx, "cl2-1", bad, t + timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="older"):
        sn.ingest_reading(ctx, "cl2-1", 5.0, t - timedelta(seconds=1))
    with pytest.raises(NotFound):
        sn.ingest_reading(ctx, "no-such", 5.0, t)
    with pytest.raises(ClockSkew):
        sn.ingest_reading(ctx, "cl2-1", 5.0, t + timedelta(hours=1))
    assert (_count(ctx, AuditRow), _count(ctx, AlertRow), _count(ctx, HazardRow)) == (
        audit_before,
        alerts_before,
        0,
    )


def test_stale_sweep(ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]) -> None:
    sn.define_sensor(ctx, CL2, actors["eng"])
    sn.ingest_reading(ctx, "cl2-1", 0.5, clock.now())
    clock.advance(timedelta(minutes=5))
    assert sn.stale_sweep(ctx) == []
    clock.advance(timedelta(seconds=1))
    (alert,) = sn.stale_sweep(ctx)
    assert (alert.kind, alert.sensor_id) == ("sensor.stale", "cl2-1")
    assert sn.stale_sweep(ctx) == []  # one alert per outage
    sn.ingest_reading(ctx, "cl2-1", 0.5, clock.now())
    clock.advance(timedelta(minutes=6))
    assert len(sn.stale_sweep(ctx)) == 1


def test_permits_approval_presence_and_expiry(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    upsert_zone(
        ctx, Zone("tank-3", "Tank 3", "area-b", frozenset({PermitType.CONFINED_SPACE})), actors["boss"]
    )
    now = clock.now()
    check = PresenceCheck("tank-3", now, people_count=2, camera_id="cam-7")
    none = pm.presence_check(ctx, check, "pc-1", ("snap/pc-1.jpg",))
    assert none.result.verdict is PresenceVerdict.NO_VALID_PERMIT and none.hazard is not None
    req = PermitRequest(PermitType.CONFINED_SPACE, "tank-3", now, now + timedelta(hours=4))
    permit = pm.request_permit(ctx, req, actors["eng"])
    with pytest.raises(Unauthorised):
        pm.approve_permit(ctx, permit.permit_id, actors["eng"])  # own request
    assert pm.approve_permit(ctx, permit.permit_id, actors["eng2"]).status is PermitStatus.PENDING
    with pytest.raises(Unauthorised):
        pm.approve_permit(ctx, permit.permit_id, actors["eng2"])
    assert pm.approve_permit(ctx, permit.permit_id, actors["boss"]).status is PermitStatus.ACTIVE
    ok = pm.presence_check(ctx, check, "pc-2")
    assert ok.result.verdict is PresenceVerdict.PERMITTED and ok.hazard is None and ok.alert_id is None
    alone = pm.presence_check(ctx, PresenceCheck("tank-3", now, 1), "pc-3")
    assert alone.result.verdict is PresenceVerdict.UNDERSTAFFED and alone.alert_id is not None
    assert [a.kind for a in sn.list_alerts(ctx)] == ["permit.understaffed"]
    clock.advance(timedelta(hours=4))
    assert pm.expire_sweep(ctx) == [permit.permit_id]
    assert pm.expire_sweep(ctx) == []
    assert pm.permits_valid_at(ctx, "tank-3", now) == []
    with pytest.raises(NotFound):
        pm.presence_check(ctx, PresenceCheck("nowhere", now, 1), "pc-4")


def test_users_and_api_keys(ctx: WorkflowContext) -> None:
    user, key = create_user(ctx, "alice", "reviewer")
    assert user.role is Role.REVIEWER and len(key) >= 40
    assert authenticate(ctx, key) == Actor(user.id, "alice", Role.REVIEWER)
    assert authenticate(ctx, key + "x") is None
    assert authenticate(ctx, "") is None
    with pytest.raises(InvalidInput, match="already exists"):
        create_user(ctx, "alice", "admin")
    with pytest.raises(InvalidInput, match="unknown role"):
        create_user(ctx, "bob", "superuser")
    with ctx.uow() as uow:
        from workflow.persistence.orm import UserRow

        row = uow.session.scalars(select(UserRow)).one()
        assert key not in row.api_key_hash and len(row.api_key_hash) == 64
        row.disabled = True
        uow.commit()
    assert authenticate(ctx, key) is None


def test_kpis(ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory, actors: dict[str, Actor]) -> None:
    day = clock.now().date()
    # One photo: a bare head and three people with a helmet (camera frames count through their tallies,
    # see test_ppe_compliance_kpi.py).
    photo = {"source_kind": SourceKind.PHOTO, "source_id": "photo-1", "zone": "area-a"}
    hid = hz.ingest_observation(ctx, make_obs(1, clock.now(), **photo)).hazard_id
    assert hid is not None
    for n in range(3):
        hz.ingest_observation(ctx, make_obs(10 + n, clock.now(), kind="ppe.ok", **photo))
    hz.register(ctx, hid, actors["insp"])
    hz.dispatch(ctx, hid, actors["eng"])
    hz.start(ctx, hid, actors["fixer"])
    clock.advance(timedelta(hours=2))
    hz.rectify(ctx, hid, actors["fixer"], ["after.jpg"], None)
    hz.review(ctx, hid, actors["rev"], approve=True)
    hz.close(ctx, hid, actors["rev"])
    (row,) = compute_kpis(ctx, day, day)
    assert (row.area, row.opened, row.closed, row.closed_within_deadline, row.overdue) == (
        "area-a",
        1,
        1,
        1,
        0,
    )
    assert row.mean_hours_to_close == pytest.approx(2.0)
    assert row.ppe_compliance_rate == pytest.approx(0.75)
    assert compute_kpis(ctx, day, day, area="elsewhere") == []
    with pytest.raises(InvalidInput):
        compute_kpis(ctx, day, day - timedelta(days=1))


def test_permits_valid_at_are_the_zones_active_permits_of_that_moment_in_request_order(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    for zone in ("tank-3", "tank-4"):
        upsert_zone(ctx, Zone(zone, zone, "area-b", frozenset({PermitType.CONFINED_SPACE})), actors["boss"])
    now = clock.now()

    def requested(zone: str, hours: int) -> int:
        req = PermitRequest(PermitType.CONFINED_SPACE, zone, now, now + timedelta(hours=hours))
        return pm.request_permit(ctx, req, actors["eng"]).permit_id

    short, other_zone, long, _pending = (
        requested("tank-3", 1),
        requested("tank-4", 8),
        requested("tank-3", 8),
        requested("tank-3", 8),
    )
    for permit_id in (long, other_zone, short):  # approved out of request order (PostgreSQL then
        pm.approve_permit(ctx, permit_id, actors["eng2"])  # stores the rows out of order too)
        pm.approve_permit(ctx, permit_id, actors["boss"])
    assert [p.permit_id for p in pm.permits_valid_at(ctx, "tank-3", now)] == [
        short,
        long,
    ]  # not the pending one
    assert [p.permit_id for p in pm.permits_valid_at(ctx, "tank-4", now)] == [other_zone]
    later = now + timedelta(hours=2)  # the one-hour permit has run out
    assert [p.permit_id for p in pm.permits_valid_at(ctx, "tank-3", later)] == [long]


def test_an_understaffed_permit_says_whether_it_requires_a_watcher(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    upsert_zone(
        ctx, Zone("tank-5", "Tank 5", "area-b", frozenset({PermitType.CONFINED_SPACE})), actors["boss"]
    )
    now = clock.now()
    for watcher, words in ((True, "requires 2 people including a watcher"), (False, "requires 2 people")):
        req = PermitRequest(
            PermitType.CONFINED_SPACE, "tank-5", now, now + timedelta(hours=1), watcher_required=watcher
        )
        permit = pm.request_permit(ctx, req, actors["eng"])
        pm.approve_permit(ctx, permit.permit_id, actors["eng2"])
        pm.approve_permit(ctx, permit.permit_id, actors["boss"])
        (valid,) = pm.permits_valid_at(ctx, "tank-5", now)
        assert valid.watcher_required is watcher
        outcome = pm.presence_check(ctx, PresenceCheck("tank-5", now, 1), f"pc-w{watcher}")
        assert outcome.result.verdict is PresenceVerdict.UNDERSTAFFED
        assert outcome.result.reason == f"permit {permit.permit_id} {words}; cameras see 1"
        pm.suspend_permit(ctx, permit.permit_id, actors["boss"], "next case")


def test_an_unknown_permit_is_named(ctx: WorkflowContext, actors: dict[str, Actor]) -> None:
    with pytest.raises(NotFound) as error:
        pm.approve_permit(ctx, 999, actors["boss"])
    assert str(error.value) == "permit 999 does not exist"
