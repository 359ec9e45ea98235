"""Sensor readings keep arriving while PostgreSQL is down: the bus intake holds them and stores every one,
in order, once the database is back (no reading lost, no restart)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from serving.bus.local import LocalBus
from serving.bus.messages import Alert, SensorReading
from serving.bus.sensor_bridge import connect_sensor_readings
from tests.support.private_postgres import private_postgres
from workflow.domain.roles import SYSTEM
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.persistence.orm import AlertRow, SensorRow
from workflow.services.context import WorkflowContext
from workflow.services.sensors import define_sensor

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_readings_sent_during_a_database_outage_are_all_stored_after_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with private_postgres() as pg:
        upgrade_database(pg.url)
        engine = make_engine(pg.url)
        ctx = WorkflowContext(make_session_factory(engine))
        define_sensor(ctx, SensorDefinition("co-9", "z1", "ppm", tiers_with_hysteresis((10.0,), 2.0)), SYSTEM)
        bus, published = LocalBus(), []
        bus.subscribe_alerts(published.append)
        stop = connect_sensor_readings(bus, ctx)
        t0 = datetime.now(UTC) - timedelta(seconds=30)
        values = [1.0, 20.0, 1.0, 20.0, 1.0, 20.0]  # every reading changes tier: six alerts
        try:
            bus.deliver_reading(SensorReading(sensor_id="co-9", value=values[0], timestamp=t0))
            pg.stop()
            for i, value in enumerate(values[1:], start=1):
                bus.deliver_reading(
                    SensorReading(sensor_id="co-9", value=value, timestamp=t0 + timedelta(seconds=i))
                )
            time.sleep(2.0)  # the intake is retrying against the stopped server
            pg.start()
            deadline = time.monotonic() + 60
            while len(published) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop()
        with ctx.uow() as uow:
            sensor = uow.session.get(SensorRow, "co-9")
            assert sensor is not None and sensor.last_at == t0 + timedelta(seconds=5)
            assert uow.session.scalar(select(func.count()).select_from(AlertRow)) == 5
        assert [a.level for a in published if isinstance(a, Alert)] == [2, 1, 2, 1, 2]
        assert "retrying in" in caplog.text  # the outage was met, not missed
        engine.dispose()
