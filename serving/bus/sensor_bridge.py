"""Sensor readings from the bus → the workflow's sensor use case → resulting alerts back onto the bus.

Runs in the bus's delivery thread (paho's network thread for MQTT) and goes through the workflow use
case, which owns the transaction; a rejected reading (unknown sensor, clock skew, out of range) is
logged with its reason and dropped, never raised into the network thread.
"""

from __future__ import annotations

import logging

from serving.bus.messages import Alert, SensorReading
from serving.bus.port import AlertBus, Unsubscribe
from workflow.domain.errors import DomainError
from workflow.services.context import WorkflowContext
from workflow.services.sensors import Alert as WorkflowAlert
from workflow.services.sensors import ingest_reading

log = logging.getLogger(__name__)


def to_bus_alert(alert: WorkflowAlert) -> Alert:
    return Alert(
        alert_id=str(alert.id),
        kind=alert.kind,
        level=alert.tier or 0,
        message=alert.message,
        created_at=alert.at,
        sensor_id=alert.sensor_id,
        zone=alert.zone,
    )


def connect_sensor_readings(bus: AlertBus, ctx: WorkflowContext) -> Unsubscribe:
    def on_reading(reading: SensorReading) -> None:
        try:
            alerts = ingest_reading(ctx, reading.sensor_id, reading.value, reading.timestamp)
        except DomainError as exc:
            log.warning("sensor reading from %s refused: %s", reading.sensor_id, exc)
            return
        for alert in alerts:
            bus.publish_alert(to_bus_alert(alert))

    return bus.subscribe_readings(on_reading)
