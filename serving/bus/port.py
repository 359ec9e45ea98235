"""The bus port used by the app: publish alerts, and subscribe to alerts / sensor readings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from serving.bus.messages import Alert, SensorReading

AlertHandler = Callable[[Alert], None]
ReadingHandler = Callable[[SensorReading], None]
Unsubscribe = Callable[[], None]


class AlertBus(Protocol):
    def publish_alert(self, alert: Alert) -> None: ...

    def subscribe_alerts(self, handler: AlertHandler) -> Unsubscribe:
        """In-process subscribers (the web UI live feed); called from the publisher's thread."""
        ...

    def subscribe_readings(self, handler: ReadingHandler) -> Unsubscribe: ...

    def ping(self) -> None:
        """Raise when the bus is not ready (readiness probe)."""
        ...

    def close(self) -> None: ...
