"""The sensor use cases' writes on SQLite and PostgreSQL, every expected value written out by hand: the
audit entry each one appends (actor, action, entity, id, canonical payload), the stale sweep's selection,
boundary, order and alert fields, acknowledgement's rules and refusals, and list_alerts' defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.support.audit_log import audit_after, last_audit_seq
from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput, NotFound
from workflow.domain.roles import Actor
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.orm import AlertRow, SensorRow
from workflow.services import sensors as sn
from workflow.services.context import WorkflowContext

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock fixture's start
# tier 2 from 10 ppm, tier 3 from 50 ppm; falling back needs 2 ppm below each (8, 48)
CO = SensorDefinition("co-1", "boiler", "ppm", tiers_with_hysteresis((10.0, 50.0), 2.0))


def _sensor_row(ctx: WorkflowContext, sensor_id: str) -> tuple[object, ...]:
    with ctx.uow() as uow:
        r = uow.session.get(SensorRow, sensor_id)
        assert r is not None
        return (
            r.zone,
            r.unit,
            r.thresholds,
            r.debounce_s,
            r.stale_after_s,
            r.min_value,
            r.max_value,
            r.tier,
            r.last_value,
            r.last_at,
            r.stale,
        )


def test_defining_a_sensor_is_audited_and_redefining_it_keeps_its_live_tier(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    before = last_audit_seq(ctx)
    assert sn.define_sensor(ctx, CO, actors["eng"]) == CO
    assert audit_after(ctx, before) == [
        (T0, "eng", "sensor.define", "sensor", "co-1", '{"thresholds":"[[2, 10.0, 8.0], [3, 50.0, 48.0]]"}')
    ]
    assert _sensor_row(ctx, "co-1") == (
        "boiler",
        "ppm",
        "[[2, 10.0, 8.0], [3, 50.0, 48.0]]",
        0.0,
        300.0,
        0.0,
        None,
        1,
        None,
        None,
        False,
    )
    (rise,) = sn.ingest_reading(ctx, "co-1", 12.0, T0)
    assert (rise.previous_tier, rise.tier) == (1, 2)

    clock.advance(timedelta(minutes=1))
    redefined = SensorDefinition(
        "co-1",
        "boiler-2",
        "mg/m3",
        tiers_with_hysteresis((20.0,), 1.0),
        debounce=timedelta(seconds=3),
        stale_after=timedelta(minutes=10),
        min_value=-5.0,
        max_value=500.0,
    )
    before = last_audit_seq(ctx)
    assert sn.define_sensor(ctx, redefined, actors["eng2"]) == redefined
    assert audit_after(ctx, before) == [
        (
            T0 + timedelta(minutes=1),
            "eng2",
            "sensor.define",
            "sensor",
            "co-1",
            '{"thresholds":"[[2, 20.0, 19.0]]"}',
        )
    ]
    # the definition is replaced in place; the tier reached by the last reading is kept
    assert _sensor_row(ctx, "co-1") == (
        "boiler-2",
        "mg/m3",
        "[[2, 20.0, 19.0]]",
        3.0,
        600.0,
        -5.0,
        500.0,
        2,
        12.0,
        T0,
        False,
    )
    with ctx.uow() as uow:
        assert uow.session.scalars(select(SensorRow.id)).all() == ["co-1"]


def test_the_stale_sweep_alerts_once_per_sensor_past_stale_after_in_id_order(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    # Defined and read in an order other than their ids' (rows come back in insertion order without the
    # ORDER BY on both databases).
    for sensor_id, zone in (("st-b", "zone-b"), ("st-a", "zone-a"), ("st-0", "zone-0"), ("st-00", "zone-00")):
        sn.define_sensor(ctx, SensorDefinition(sensor_id, zone, "ppm", CO.thresholds), actors["eng"])
    sn.ingest_reading(ctx, "st-b", 12.0, T0)  # tier 2 (its rise is alert 1)
    sn.ingest_reading(ctx, "st-a", 4.5, T0)  # tier 1
    clock.advance(timedelta(seconds=1))
    sn.ingest_reading(ctx, "st-0", 3.0, T0 + timedelta(seconds=1))  # one second later than the others
    # st-00 never reported: it is never stale
    clock.advance(timedelta(minutes=5) - timedelta(seconds=1))  # T0 + 5 min: exactly stale_after
    assert sn.stale_sweep(ctx) == []

    clock.advance(timedelta(seconds=1))  # T0 + 5 min 1 s: st-a and st-b one second past, st-0 exactly at
    before = last_audit_seq(ctx)
    now = T0 + timedelta(minutes=5, seconds=1)
    expected = [
        sn.Alert(
            2,
            "sensor.stale",
            "st-a",
            "zone-a",
            1,
            1,
            4.5,
            now,
            False,
            None,
            "no reading since 2026-03-02 08:00:00+00:00",
            None,
        ),
        sn.Alert(
            3,
            "sensor.stale",
            "st-b",
            "zone-b",
            2,
            2,
            12.0,
            now,
            False,
            None,
            "no reading since 2026-03-02 08:00:00+00:00",
            None,
        ),
    ]
    assert sn.stale_sweep(ctx) == expected
    assert audit_after(ctx, before) == [
        (now, "system", "alert.stale", "alert", "2", '{"sensor":"st-a"}'),
        (now, "system", "alert.stale", "alert", "3", '{"sensor":"st-b"}'),
    ]
    # what was stored is what was returned, and the stale alerts wait for an acknowledgement
    assert [a for a in sn.list_alerts(ctx, unacknowledged_only=True) if a.kind == "sensor.stale"] == [
        expected[1],
        expected[0],
    ]
    assert [_sensor_row(ctx, s)[-1] for s in ("st-a", "st-b", "st-0", "st-00")] == [True, True, False, False]
    assert sn.stale_sweep(ctx) == []  # one alert per outage

    clock.advance(timedelta(seconds=1))  # now st-0 is one second past too
    (late,) = sn.stale_sweep(ctx)
    assert (late.id, late.sensor_id, late.tier, late.value, late.message) == (
        4,
        "st-0",
        1,
        3.0,
        "no reading since 2026-03-02 08:00:01+00:00",
    )


def test_acknowledging_an_alert_is_stored_audited_and_done_once(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, CO, actors["eng"])
    (alert,) = sn.ingest_reading(ctx, "co-1", 12.5, T0)
    assert alert.id == 1 and alert.acknowledged is False
    clock.advance(timedelta(minutes=2))
    before = last_audit_seq(ctx)
    acked = sn.acknowledge_alert(ctx, 1, actors["eng2"])
    assert (acked.id, acked.kind, acked.sensor_id, acked.tier, acked.acknowledged, acked.message) == (
        1,
        "sensor.tier",
        "co-1",
        2,
        True,
        "tier 1 → 2 at 12.5 ppm",
    )
    assert audit_after(ctx, before) == [(T0 + timedelta(minutes=2), "eng2", "alert.ack", "alert", "1", "{}")]
    with ctx.uow() as uow:
        assert uow.session.scalars(select(AlertRow.acknowledged)).all() == [True]

    before = last_audit_seq(ctx)
    with pytest.raises(InvalidInput) as twice:
        sn.acknowledge_alert(ctx, 1, actors["eng"])
    assert str(twice.value) == "alert 1 is already acknowledged"
    with pytest.raises(NotFound) as missing:
        sn.acknowledge_alert(ctx, 999, actors["eng"])
    assert str(missing.value) == "alert 999 does not exist"
    assert audit_after(ctx, before) == []  # refusals write nothing

    # by default every alert is listed, acknowledged or not
    assert [(a.id, a.acknowledged) for a in sn.list_alerts(ctx)] == [(1, True)]
    assert sn.list_alerts(ctx, unacknowledged_only=True) == []


def test_list_alerts_returns_the_newest_100_by_default(ctx: WorkflowContext) -> None:
    with ctx.uow() as uow:
        for n in range(101):
            uow.session.add(
                AlertRow(kind="permit.understaffed", zone="z1", at=T0 + timedelta(seconds=n), message=f"#{n}")
            )
        uow.commit()
    listed = sn.list_alerts(ctx)
    assert len(listed) == 100
    assert (listed[0].message, listed[-1].message) == ("#100", "#1")  # the oldest, #0, is left out
    assert len(sn.list_alerts(ctx, limit=101)) == 101
