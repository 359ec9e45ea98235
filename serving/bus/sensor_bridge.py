"""Sensor readings from the bus → the sensor alert pipeline → resulting alerts back onto the bus.

paho's network thread only parses and queues each reading; one intake thread ingests them in batches
(everything queued since its last commit, up to ``max_batch``: one transaction per batch, so the rate a
database sustains is not divided by the number of sensors). A refused reading (unknown sensor, clock
skew, out of range) is logged with its reason and dropped. When the database is down the batch is kept
and retried with backoff; while the queue is full the network thread waits (back-pressure on the broker)
rather than dropping readings.
"""

from __future__ import annotations

import logging
import queue
import threading

from serving.bus.messages import SensorReading
from serving.bus.port import AlertBus, Unsubscribe
from serving.pipelines.sensor_alerts import SensorAlerts
from workflow.services.context import WorkflowContext

__all__ = ["connect_sensor_readings"]

log = logging.getLogger(__name__)
_STOP = object()


def connect_sensor_readings(
    bus: AlertBus,
    ctx: WorkflowContext,
    pipeline: SensorAlerts | None = None,
    *,
    max_batch: int = 500,
    capacity: int = 100_000,
) -> Unsubscribe:
    """Subscribe ``pipeline`` (default: one without camera evidence) to the bus's sensor readings; the
    returned callable unsubscribes, ingests what is still queued and stops the intake thread."""
    intake = _Intake(pipeline if pipeline is not None else SensorAlerts(ctx, bus), max_batch, capacity)
    unsubscribe = bus.subscribe_readings(intake.submit)

    def stop() -> None:
        unsubscribe()
        intake.stop()

    return stop


class _Intake:
    def __init__(self, handler: SensorAlerts, max_batch: int, capacity: int) -> None:
        self._handler, self._max_batch = handler, max_batch
        self._queue: queue.Queue[object] = queue.Queue(capacity)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sensor-intake", daemon=True)
        self._thread.start()

    def submit(self, reading: SensorReading) -> None:
        self._queue.put(reading)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            batch: list[SensorReading] = []
            item = self._queue.get()
            while item is not _STOP:
                assert isinstance(item, SensorReading)
                batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._ingest(batch)
            if item is _STOP:
                return

    def _ingest(self, batch: list[SensorReading]) -> None:
        delay = 0.5
        while True:
            try:
                outcomes = self._handler.handle_many(batch)
                break
            except Exception:  # the database is down: keep the readings, try again
                if self._stopping.is_set():
                    log.error("stopping: %d sensor readings could not be stored", len(batch))
                    return
                log.exception("storing %d sensor readings failed; retrying in %.1f s", len(batch), delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)
        for reading, outcome in zip(batch, outcomes, strict=True):
            if outcome.refused is not None:
                log.warning("sensor reading from %s refused: %s", reading.sensor_id, outcome.refused)
