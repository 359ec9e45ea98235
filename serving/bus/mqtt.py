"""MQTT bridge (paho-mqtt 2): sensor readings in, alerts out, QoS 1.

- One client id per process (prefix-host-pid-random) so two workers never kick each other off.
- paho's network thread reconnects with backoff; ``on_connect`` (re)subscribes every time, so a broker
  restart does not silently drop the sensor subscription.
- Alerts published while disconnected stay in paho's outgoing queue and go out after reconnect (QoS 1).
- Sensor topics use a shared subscription (``$share/<client id prefix>/...``) so API nodes split the
  readings instead of each ingesting every one.
- Malformed sensor payloads are logged with the reason and counted, never raised into paho's thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from serving.bus.local import Fanout
from serving.bus.messages import Alert, PayloadError, SensorReading, parse_sensor_message
from serving.bus.port import AlertHandler, ReadingHandler, Unsubscribe
from serving.settings import MqttBusSettings

log = logging.getLogger(__name__)


def process_client_id(prefix: str) -> str:
    return f"{prefix}-{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Send small packets at once. paho leaves Nagle's algorithm on: a PUBACK followed by an alert, both
    a few bytes, then wait for the broker's delayed ACK (40 ms on Linux) at every hop: 90 ms per alert."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttBus:
    def __init__(self, settings: MqttBusSettings, *, reconnect_max_s: int = 30) -> None:
        self._settings = settings
        self._prefix = settings.topic_prefix
        self._alerts: Fanout[Alert] = Fanout()
        self._readings: Fanout[SensorReading] = Fanout()
        self._connected = threading.Event()
        self.malformed_count = 0
        self.connect_count = 0
        self.client_id = process_client_id(settings.client_id_prefix)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            reconnect_on_failure=True,
        )
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password is not None else None
            client.username_pw_set(settings.username, password)
        client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
        client.max_queued_messages_set(10_000)  # bounded: alerts queued while the broker is down
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = no_delay
        self._client = client

    @property
    def sensor_topic(self) -> str:
        # A shared subscription: with several API nodes each reading is ingested by exactly one of them.
        return f"$share/{self._settings.client_id_prefix}/{self._prefix}/sensors/+"

    def alert_topic(self, alert: Alert) -> str:
        return f"{self._prefix}/alerts/{alert.kind}"

    def start(self, *, wait_s: float | None = 10.0) -> None:
        self._client.connect_async(
            self._settings.host, self._settings.port, keepalive=self._settings.keepalive_s
        )
        self._client.loop_start()
        if wait_s is not None and not self._connected.wait(wait_s):
            log.warning(
                "MQTT broker %s:%d not reachable yet; retrying in background",
                self._settings.host,
                self._settings.port,
            )

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        self.connect_count += 1
        client.subscribe(self.sensor_topic, qos=self._settings.qos)
        self._connected.set()
        log.info("MQTT connected as %s (connection %d)", self.client_id, self.connect_count)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self._connected.clear()
        log.warning("MQTT disconnected (%s); paho reconnects in the background", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            reading = parse_sensor_message(message.topic, bytes(message.payload), prefix=self._prefix)
        except PayloadError as exc:
            self.malformed_count += 1
            log.warning("dropped malformed sensor message: %s", exc)
            return
        self._readings.emit(reading)

    def publish_alert(self, alert: Alert) -> None:
        # Queued by paho when disconnected; QoS 1 makes the broker acknowledge each alert.
        info = self._client.publish(self.alert_topic(alert), alert.model_dump_json(), qos=self._settings.qos)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.error("MQTT publish of alert %s failed: %s", alert.alert_id, mqtt.error_string(info.rc))
        self._alerts.emit(alert)

    def subscribe_alerts(self, handler: AlertHandler) -> Unsubscribe:
        return self._alerts.subscribe(handler)

    def subscribe_readings(self, handler: ReadingHandler) -> Unsubscribe:
        return self._readings.subscribe(handler)

    def ping(self) -> None:
        if not self._connected.is_set():
            raise ConnectionError(f"MQTT broker {self._settings.host}:{self._settings.port} not connected")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
