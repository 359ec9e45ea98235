"""A gas sensor's rules end to end on SQLite and PostgreSQL, every expected value written out by hand:
debounce held across transactions, which tier changes open a hazard, what the alert and its audit entry
say, and how readings are refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import ClockSkew, InvalidInput
from workflow.domain.roles import Actor
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.orm import AuditRow
from workflow.services import sensors as sn
from workflow.services.context import WorkflowContext
from workflow.services.queries import hazard_detail

pytestmark = pytest.mark.integration
# tier 2 from 10 ppm, tier 3 from 50 ppm; falling back needs 2 ppm below each (8, 48)
CO = SensorDefinition("co-1", "boiler", "ppm", tiers_with_hysteresis((10.0, 50.0), 2.0), max_value=1000.0)


def _transitions(alerts: list[sn.Alert]) -> list[tuple[int, int]]:
    return [(a.previous_tier, a.tier) for a in alerts]


def test_a_debounced_rise_is_committed_after_the_debounce_even_across_transactions(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    slow = SensorDefinition("co-2", "boiler", "ppm", CO.thresholds, debounce=timedelta(seconds=10))
    sn.define_sensor(ctx, slow, actors["eng"])
    t = clock.now() - timedelta(minutes=1)
    assert sn.ingest_reading(ctx, "co-2", 12.0, t) == []  # a candidate for tier 2 since t
    assert sn.ingest_reading(ctx, "co-2", 13.0, t + timedelta(seconds=5)) == []  # still a candidate
    assert sn.ingest_reading(ctx, "co-2", 14.0, t + timedelta(seconds=9.9)) == []
    (alert,) = sn.ingest_reading(ctx, "co-2", 12.5, t + timedelta(seconds=10))  # 10 s after t: committed
    assert (alert.previous_tier, alert.tier, alert.value, alert.at) == (1, 2, 12.5, t + timedelta(seconds=10))


def test_only_a_rise_into_tier_2_or_above_opens_a_hazard_and_each_rise_adds_evidence(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CO, actors["eng"])
    t = clock.now() - timedelta(minutes=1)
    (to2,) = sn.ingest_reading(ctx, "co-1", 12.0, t)
    (to3,) = sn.ingest_reading(ctx, "co-1", 60.0, t + timedelta(seconds=1))
    (back_to2,) = sn.ingest_reading(ctx, "co-1", 40.0, t + timedelta(seconds=2))  # below 48: tier 2
    (back_to1,) = sn.ingest_reading(ctx, "co-1", 5.0, t + timedelta(seconds=3))
    assert _transitions([to2, to3, back_to2, back_to1]) == [(1, 2), (2, 3), (3, 2), (2, 1)]
    assert to2.hazard_id is not None and to3.hazard_id is not None and to3.hazard_id != to2.hazard_id
    assert back_to2.hazard_id is None and back_to1.hazard_id is None  # falling opens nothing
    assert [hazard_detail(ctx, h).hazard.kind for h in (to2.hazard_id, to3.hazard_id)] == [
        "sensor.tier2",
        "sensor.tier3",
    ]
    assert all(
        len(hazard_detail(ctx, h).evidence) == 1 for h in (to2.hazard_id, to3.hazard_id)
    )  # the falls added none
    (again,) = sn.ingest_reading(ctx, "co-1", 12.0, t + timedelta(seconds=4))  # a second rise into tier 2
    assert again.hazard_id == to2.hazard_id and len(hazard_detail(ctx, to2.hazard_id).evidence) == 2


def test_the_alert_says_what_happened_and_is_audited(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CO, actors["eng"])
    t = clock.now() - timedelta(minutes=1)
    (alert,) = sn.ingest_reading(ctx, "co-1", 12.5, t)
    assert (alert.kind, alert.sensor_id, alert.zone) == ("sensor.tier", "co-1", "boiler")
    assert alert.message == "tier 1 → 2 at 12.5 ppm"
    assert alert.acknowledged is False
    assert [a.id for a in sn.list_alerts(ctx, unacknowledged_only=True)] == [alert.id]
    with ctx.uow() as uow:
        entry = uow.session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).one()
        assert (entry.action, entry.entity, entry.entity_id) == ("alert.sensor", "alert", str(alert.id))
        assert json.loads(entry.payload) == {"sensor": "co-1", "tier": 2}
    hazard = hazard_detail(ctx, alert.hazard_id or 0).hazard
    assert (hazard.description, hazard.zone, hazard.source_id) == ("co-1: 12.5 ppm, tier 2", "boiler", "co-1")


def test_alerts_are_listed_newest_first_and_limited(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CO, actors["eng"])
    sn.define_sensor(ctx, SensorDefinition("co-3", "boiler", "ppm", CO.thresholds), actors["eng"])
    t = clock.now() - timedelta(minutes=1)
    latest = sn.ingest_reading(ctx, "co-3", 12.0, t + timedelta(seconds=10))  # stored first, newest reading
    first = sn.ingest_reading(ctx, "co-1", 12.0, t + timedelta(seconds=2))
    second = sn.ingest_reading(ctx, "co-1", 5.0, t + timedelta(seconds=3))
    third = sn.ingest_reading(ctx, "co-1", 12.0, t + timedelta(seconds=3))  # the same second: higher id first
    ids = [alerts[0].id for alerts in (latest, first, second, third)]
    assert [a.id for a in sn.list_alerts(ctx)] == [ids[0], ids[3], ids[2], ids[1]]
    assert [a.id for a in sn.list_alerts(ctx, limit=2)] == [ids[0], ids[3]]


def test_readings_are_refused_with_their_reason(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CO, actors["eng"])
    naive = datetime(2026, 3, 2, 7, 59)
    with pytest.raises(InvalidInput) as error:
        sn.ingest_reading(ctx, "co-1", 1.0, naive)
    assert str(error.value) == "at must be timezone-aware, got naive 2026-03-02T07:59:00"
    ahead = clock.now() + timedelta(minutes=10)
    with pytest.raises(ClockSkew) as skew:
        sn.ingest_reading(ctx, "co-1", 1.0, ahead)
    assert str(skew.value).startswith(f"reading time {ahead.isoformat()} is ahead of the server clock")
    with pytest.raises(InvalidInput) as above:
        sn.ingest_reading(ctx, "co-1", 1000.5, clock.now())
    assert str(above.value) == "sensor co-1: 1000.5 ppm is above 1000.0"
    local = clock.now().astimezone(timezone(timedelta(hours=8)))  # any zone is fine once it is stated
    assert sn.ingest_reading(ctx, "co-1", 12.0, local)[0].at == clock.now()
