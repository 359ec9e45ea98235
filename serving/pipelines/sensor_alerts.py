"""Sensor readings (HTTP or MQTT) → workflow tiers → alerts on the bus; tier ≥ 2 → hazard + camera frames.

The workflow's ``ingest_reading`` owns the tier machine and opens the hazard for a rising tier ≥ 2;
this pipeline publishes each alert and attaches the zone's fresh camera snapshots (from the camera
board of this process) to that hazard as evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from serving.bus.messages import Alert, SensorReading
from serving.bus.port import AlertBus
from serving.pipelines.camera_board import CameraBoard
from workflow.domain.errors import DomainError
from workflow.services.context import WorkflowContext
from workflow.services.sensor_evidence import attach_snapshots
from workflow.services.sensors import HAZARD_TIER, Reading, ReadingOutcome, ingest_reading, ingest_readings
from workflow.services.sensors import Alert as WorkflowAlert

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


class SensorAlerts:
    def __init__(
        self,
        ctx: WorkflowContext,
        bus: AlertBus,
        board: CameraBoard | None = None,
        *,
        snapshot_max_age: timedelta = timedelta(minutes=2),
    ) -> None:
        self._ctx, self._bus, self._board, self._max_age = ctx, bus, board, snapshot_max_age

    def handle(self, reading: SensorReading) -> list[WorkflowAlert]:
        """Ingest one reading (domain errors propagate: the HTTP route maps them, the bridge logs them)."""
        alerts = ingest_reading(self._ctx, reading.sensor_id, reading.value, reading.timestamp)
        self._announce(alerts)
        return alerts

    def handle_many(self, readings: Sequence[SensorReading]) -> list[ReadingOutcome]:
        """Ingest readings in one transaction (the bus intake's batches); refusals come back as outcomes."""
        batch = [Reading(r.sensor_id, r.value, r.timestamp) for r in readings]
        outcomes = ingest_readings(self._ctx, batch)
        for outcome in outcomes:
            self._announce(outcome.alerts)
        return outcomes

    def _announce(self, alerts: Sequence[WorkflowAlert]) -> None:
        for alert in alerts:
            self._bus.publish_alert(to_bus_alert(alert))
            if alert.hazard_id is not None and (alert.tier or 0) >= HAZARD_TIER:
                self._attach_frames(alert, alert.hazard_id)

    def _attach_frames(self, alert: WorkflowAlert, hazard_id: int) -> None:
        if self._board is None:
            return
        keys = self._board.fresh_snapshots(alert.zone, self._ctx.clock.now(), self._max_age)
        if not keys:
            return
        try:
            attach_snapshots(self._ctx, hazard_id, keys, alert_id=alert.id, sensor_id=alert.sensor_id or "")
        except DomainError as exc:  # the alert is out already; missing frames must not undo it
            log.warning("could not attach snapshots to hazard %d: %s", hazard_id, exc)
