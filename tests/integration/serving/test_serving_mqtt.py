from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from serving_services import Mosquitto

from serving.bus import Alert, SensorReading
from serving.bus.mqtt import MqttBus
from serving.settings import MqttBusSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


class Peer:
    """A plain paho client playing the sensor gateway / alert consumer on the other side."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        # A durable consumer session: alerts published while it reconnects are kept for it (QoS 1).
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"peer-{uuid.uuid4().hex[:8]}", clean_session=False
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda c, *_: (
            c.subscribe("hazardeye/alerts/#", qos=1),
            self.connected.set(),
        )
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received.append((msg.topic, bytes(msg.payload)))

    def publish_reading(self, sensor: str, value: float) -> None:
        body = json.dumps({"value": value, "timestamp": datetime.now(UTC).isoformat()})
        self.client.publish(f"hazardeye/sensors/{sensor}", body, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def bus(mosquitto: Mosquitto) -> Iterator[MqttBus]:
    b = MqttBus(MqttBusSettings(kind="mqtt", port=mosquitto.port, keepalive_s=5), reconnect_max_s=1)
    b.start(wait_s=10)
    yield b
    b.close()


@pytest.fixture
def peer(mosquitto: Mosquitto) -> Iterator[Peer]:
    p = Peer(mosquitto.port)
    yield p
    p.close()


def _alert(n: int) -> Alert:
    return Alert(alert_id=str(n), kind="sensor_tier", level=2, message="Cl2", created_at=datetime.now(UTC))


def test_readings_in_alerts_out_and_malformed_payloads_dropped(bus: MqttBus, peer: Peer) -> None:
    readings: list[SensorReading] = []
    bus.subscribe_readings(readings.append)
    assert bus.client_id.startswith("hazardeye-")
    peer.client.publish("hazardeye/sensors/cl2-1", b"{broken", qos=1).wait_for_publish(5)
    peer.publish_reading("cl2-1", 1.7)
    _wait(lambda: len(readings) == 1)
    assert readings[0].sensor_id == "cl2-1"
    assert readings[0].value == 1.7
    assert bus.malformed_count == 1
    bus.publish_alert(_alert(1))
    _wait(lambda: len(peer.received) == 1)
    topic, payload = peer.received[0]
    assert topic == "hazardeye/alerts/sensor_tier"
    assert Alert.model_validate_json(payload).alert_id == "1"


def test_broker_restart_reconnects_resubscribes_and_delivers(
    bus: MqttBus, peer: Peer, mosquitto: Mosquitto
) -> None:
    readings: list[SensorReading] = []
    bus.subscribe_readings(readings.append)
    peer.publish_reading("s1", 0.1)
    _wait(lambda: len(readings) == 1)

    mosquitto.stop()
    # The peer's durable session must be on disk, or the alert below would race the peer's reconnect.
    assert (mosquitto.workdir / "mosquitto.db").exists(), (mosquitto.workdir / "mosquitto.log").read_text()
    _wait(lambda: not bus.wait_connected(0))
    with pytest.raises(ConnectionError):
        bus.ping()
    bus.publish_alert(_alert(2))  # published while the broker is down: queued by paho
    mosquitto.start()

    _wait(lambda: bus.wait_connected(0) and peer.connected.is_set(), timeout=30)
    assert bus.connect_count == 2
    # The alert queued while the broker was down is delivered after the reconnect (QoS 1).
    _wait(lambda: any(Alert.model_validate_json(p).alert_id == "2" for _, p in peer.received))
    peer.publish_reading("s1", 0.2)
    _wait(lambda: len(readings) == 2)  # resubscribed on reconnect
    assert [r.value for r in readings] == [0.1, 0.2]
    bus.ping()


def test_two_bridges_share_the_sensor_subscription(bus: MqttBus, peer: Peer, mosquitto: Mosquitto) -> None:
    other = MqttBus(MqttBusSettings(kind="mqtt", port=mosquitto.port, keepalive_s=5), reconnect_max_s=1)
    other.start(wait_s=10)
    try:
        assert other.client_id != bus.client_id  # one client id per process/instance
        seen: list[float] = []
        lock = threading.Lock()

        def record(reading: SensorReading) -> None:
            with lock:
                seen.append(reading.value)

        bus.subscribe_readings(record)
        other.subscribe_readings(record)
        for n in range(10):
            peer.publish_reading("s2", float(n))
        _wait(lambda: len(seen) >= 10)
        time.sleep(0.3)
        assert sorted(seen) == [float(n) for n in range(10)]  # each reading ingested once, not twice
    finally:
        other.close()


def test_mqtt_reading_becomes_a_published_alert(tmp_path: Path, bus: MqttBus, peer: Peer) -> None:
    from serving.bus.sensor_bridge import connect_sensor_readings
    from serving.cli.admin import upgrade
    from serving.settings import DatabaseSettings
    from workflow.domain.roles import SYSTEM
    from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
    from workflow.persistence.engine import make_engine, make_session_factory
    from workflow.services.context import WorkflowContext
    from workflow.services.sensors import define_sensor

    db = DatabaseSettings(url=f"sqlite:///{tmp_path / 'hazardeye.db'}")
    upgrade(db)
    engine = make_engine(db.url)
    try:
        ctx = WorkflowContext(make_session_factory(engine))
        define_sensor(
            ctx, SensorDefinition("cl2-7", "tank-farm", "ppm", tiers_with_hysteresis((1.0, 3.0), 0.2)), SYSTEM
        )
        connect_sensor_readings(bus, ctx)
        peer.client.publish(
            "hazardeye/sensors/unknown-1", b'{"value": 9, "timestamp": "2026-01-01T00:00:00Z"}', 1
        )
        started = time.monotonic()
        peer.publish_reading("cl2-7", 3.5)
        _wait(lambda: any(t == "hazardeye/alerts/sensor.tier" for t, _ in peer.received))
        latency = time.monotonic() - started
        alert = Alert.model_validate_json(next(p for t, p in peer.received if t.endswith("sensor.tier")))
        assert (alert.sensor_id, alert.zone, alert.level) == ("cl2-7", "tank-farm", 3)
        assert latency < 5.0  # generous for a shared CI box; the seed's target is 0.8 s
    finally:
        engine.dispose()
