"""Sensor readings from the bus → the sensor alert pipeline → resulting alerts back onto the bus.

Runs in the bus's delivery thread (paho's network thread for MQTT) and goes through the workflow use
case, which owns the transaction; a rejected reading (unknown sensor, clock skew, out of range) is
logged with its reason and dropped, never raised into the network thread.
"""

from __future__ import annotations

import logging

from serving.bus.messages import SensorReading
from serving.bus.port import AlertBus, Unsubscribe
from serving.pipelines.sensor_alerts import SensorAlerts
from workflow.domain.errors import DomainError
from workflow.services.context import WorkflowContext

__all__ = ["connect_sensor_readings"]

log = logging.getLogger(__name__)


def connect_sensor_readings(
    bus: AlertBus, ctx: WorkflowContext, pipeline: SensorAlerts | None = None
) -> Unsubscribe:
    """Subscribe ``pipeline`` (default: one without camera evidence) to the bus's sensor readings."""
    handler = pipeline if pipeline is not None else SensorAlerts(ctx, bus)

    def on_reading(reading: SensorReading) -> None:
        try:
            handler.handle(reading)
        except DomainError as exc:
            log.warning("sensor reading from %s refused: %s", reading.sensor_id, exc)
        except Exception:  # a database outage must not kill paho's network thread
            log.exception("sensor reading from %s failed", reading.sensor_id)

    return bus.subscribe_readings(on_reading)
