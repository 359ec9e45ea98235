"""Alert/event bus: alerts out (log + live UI feed, or MQTT) and sensor readings in (MQTT)."""

from serving.bus.local import LocalBus
from serving.bus.messages import Alert, PayloadError, SensorReading, parse_sensor_message
from serving.bus.port import AlertBus

__all__ = ["Alert", "AlertBus", "LocalBus", "PayloadError", "SensorReading", "parse_sensor_message"]
