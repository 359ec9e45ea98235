"""Sensor readings in batches (the MQTT intake's group commit), on SQLite and PostgreSQL: the same alerts
as one reading per transaction, refusals isolated to their reading, order kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Actor
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.services import sensors as sn
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.queries import hazard_detail

pytestmark = pytest.mark.integration
CO = SensorDefinition("co-1", "z1", "ppm", tiers_with_hysteresis((10.0, 50.0), 2.0))
H2S = SensorDefinition("h2s-1", "z2", "ppm", tiers_with_hysteresis((5.0,), 1.0))


def test_a_batch_raises_the_alerts_of_each_reading_in_order(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    for definition in (CO, H2S):
        sn.define_sensor(ctx, definition, actors["eng"])
    t = clock.now() - timedelta(minutes=1)
    batch = [
        sn.Reading("co-1", 4.0, t),  # tier 1: nothing
        sn.Reading("co-1", 12.0, t + timedelta(seconds=1)),  # 1 -> 2: alert and hazard
        sn.Reading("h2s-1", 6.0, t + timedelta(seconds=1)),  # another sensor, same batch: 1 -> 2
        sn.Reading("nope", 1.0, t),  # unknown sensor: refused, the rest goes on
        sn.Reading("co-1", -3.0, t + timedelta(seconds=2)),  # below the minimum 0: refused
        sn.Reading("co-1", 60.0, t + timedelta(seconds=3)),  # 2 -> 3
        sn.Reading("co-1", 70.0, t),  # older than the last accepted co-1 reading: refused
        sn.Reading("co-1", 7.0, t + timedelta(seconds=4)),  # 3 -> 1 (below 50 - 2 and 10 - 2)
    ]
    outcomes = sn.ingest_readings(ctx, batch)
    transitions = [[(a.previous_tier, a.tier) for a in o.alerts] for o in outcomes]
    assert transitions == [[], [(1, 2)], [(1, 2)], [], [], [(2, 3)], [], [(3, 1)]]
    refused = [o.refused for o in outcomes]
    assert [r is not None for r in refused] == [False, False, False, True, True, False, True, False]
    assert "unknown sensor 'nope'" in (refused[3] or "")
    assert "below 0.0" in (refused[4] or "") and "older than the last one" in (refused[6] or "")
    hazard_id = outcomes[1].alerts[0].hazard_id
    assert hazard_id is not None and hazard_detail(ctx, hazard_id).hazard.kind == "sensor.tier2"
    assert [a.kind for a in sn.list_alerts(ctx)].count("sensor.tier") == 4
    assert verify_audit_chain(ctx).ok


def test_a_refused_batch_reading_writes_nothing_and_an_empty_batch_is_fine(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    sn.define_sensor(ctx, H2S, actors["eng"])
    assert sn.ingest_readings(ctx, []) == []
    future = clock.now() + timedelta(minutes=10)  # beyond the 120 s clock skew allowed
    (outcome,) = sn.ingest_readings(ctx, [sn.Reading("h2s-1", 9.0, future)])
    assert (
        outcome.alerts == ()
        and outcome.refused is not None
        and "ahead of the server clock" in outcome.refused
    )
    assert sn.list_alerts(ctx) == []


def test_a_reading_refused_after_its_checks_passed_sends_the_batch_one_by_one(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rule that only the hazard intake applies (here: an injected refusal of h2s-1's observation) fails
    # after the batch already wrote co-1's tier change: the batch is rolled back and every reading runs
    # alone, so co-1's alert is kept once and only h2s-1's reading is refused.
    for definition in (CO, H2S):
        sn.define_sensor(ctx, definition, actors["eng"])
    real_ingest = sn.ingest_in

    def refusing(uow, ctx_, obs):  # type: ignore[no-untyped-def]
        if obs.source_id == "h2s-1":
            raise InvalidInput("injected: the intake refuses this observation")
        return real_ingest(uow, ctx_, obs)

    monkeypatch.setattr(sn, "ingest_in", refusing)
    t = clock.now() - timedelta(minutes=1)
    outcomes = sn.ingest_readings(ctx, [sn.Reading("co-1", 12.0, t), sn.Reading("h2s-1", 6.0, t)])
    assert [[(a.previous_tier, a.tier) for a in o.alerts] for o in outcomes] == [[(1, 2)], []]
    assert [o.refused for o in outcomes] == [None, "injected: the intake refuses this observation"]
    assert [(a.kind, a.sensor_id) for a in sn.list_alerts(ctx)] == [("sensor.tier", "co-1")]
    assert verify_audit_chain(ctx).ok
