"""Embedded bus: alerts go to the log and to in-process subscribers; readings come in over HTTP
(the API calls ``deliver_reading``). Also used by the MQTT bridge for its local fan-out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from serving.bus.messages import Alert, SensorReading
from serving.bus.port import AlertHandler, ReadingHandler, Unsubscribe

log = logging.getLogger(__name__)

T = TypeVar("T")


class Fanout(Generic[T]):
    """Thread-safe subscriber list; one failing subscriber never blocks the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[Callable[[T], None]] = []

    def subscribe(self, handler: Callable[[T], None]) -> Unsubscribe:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def emit(self, item: T) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(item)
            except Exception:
                log.exception("bus subscriber %r failed", handler)


class LocalBus:
    def __init__(self) -> None:
        self._alerts: Fanout[Alert] = Fanout()
        self._readings: Fanout[SensorReading] = Fanout()

    def publish_alert(self, alert: Alert) -> None:
        # Level 0 is news, not alarm (a camera back, a sensor back to normal): it is logged at info.
        severity = logging.WARNING if alert.level > 0 else logging.INFO
        log.log(severity, "ALERT %s level=%d %s", alert.kind, alert.level, alert.message)
        self._alerts.emit(alert)

    def subscribe_alerts(self, handler: AlertHandler) -> Unsubscribe:
        return self._alerts.subscribe(handler)

    def subscribe_readings(self, handler: ReadingHandler) -> Unsubscribe:
        return self._readings.subscribe(handler)

    def deliver_reading(self, reading: SensorReading) -> None:
        self._readings.emit(reading)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
