"""MQTT sensor reading → workflow ingest → alert on MQTT: end-to-end latency on loopback.

Baseline (same process, same private broker): a bare paho publish → receive round trip. The ratio
shows what the bridge + domain use case + SQLite transaction add. Seed anchor: < 800 ms.
Run: python bench/serving_mqtt_alert_latency.py [N]   (needs the mosquitto binary)
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from serving.bus.mqtt import MqttBus, no_delay
from serving.bus.sensor_bridge import connect_sensor_readings
from serving.cli.admin import upgrade
from serving.settings import DatabaseSettings, MqttBusSettings
from workflow.domain.roles import SYSTEM
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.services.context import WorkflowContext
from workflow.services.sensors import define_sensor, ingest_reading


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(port: int, on_message: mqtt.CallbackOnMessage, topic: str) -> mqtt.Client:
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{time.monotonic_ns()}")
    client.on_connect = lambda c, *_: (c.subscribe(topic, qos=1), ready.set())
    client.on_message = on_message
    client.on_socket_open = no_delay
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.wait(5)
    time.sleep(0.2)
    return client


def _measure(client: mqtt.Client, got: threading.Event, topic: str, payloads: list[bytes]) -> list[float]:
    samples = []
    for payload in payloads:
        got.clear()
        start = time.perf_counter()
        client.publish(topic, payload, qos=1)
        if not got.wait(5):
            raise TimeoutError("no message back")
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main(n: int) -> None:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="hz-bench-"))
    (work / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    broker = subprocess.Popen([binary, "-c", str(work / "m.conf")], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    got = threading.Event()
    try:
        # Baseline: bare broker round trip.
        echo = _client(port, lambda *_: got.set(), "bench/echo")
        baseline = _measure(echo, got, "bench/echo", [b"x"] * n)

        db = DatabaseSettings(url=f"sqlite:///{work / 'h.db'}")
        upgrade(db)
        engine = make_engine(db.url)
        ctx = WorkflowContext(make_session_factory(engine))
        tiers = tiers_with_hysteresis((1.0, 3.0), 0.2)
        define_sensor(ctx, SensorDefinition("b1", "zone", "ppm", tiers), SYSTEM)
        define_sensor(ctx, SensorDefinition("d1", "zone", "ppm", tiers), SYSTEM)
        direct = []  # the domain use case alone, no MQTT: where the time goes
        for i in range(n):
            start = time.perf_counter()
            ingest_reading(ctx, "d1", 3.5 if i % 2 == 0 else 0.1, datetime.now(UTC))
            direct.append((time.perf_counter() - start) * 1000)
        bus = MqttBus(MqttBusSettings(kind="mqtt", port=port))
        bus.start(wait_s=5)
        connect_sensor_readings(bus, ctx)
        # The alert watcher is its own connection, as on a plant (sensors publish, a control room listens):
        # sharing one would make the broker's alert wait for the TCP ACK of its own PUBACK (Nagle).
        _client(port, lambda *_: got.set(), "hazardeye/alerts/#")
        sensor = _client(port, lambda *_: None, "bench/unused")
        # Alternate tier 1 and tier 3 so every reading changes tier and raises an alert.
        payloads = []
        for i in range(n):
            value = 3.5 if i % 2 == 0 else 0.1
            payloads.append(f'{{"value": {value}, "timestamp": "{datetime.now(UTC).isoformat()}"}}'.encode())
        full = _measure(sensor, got, "hazardeye/sensors/b1", payloads)
        bus.close()
        engine.dispose()
    finally:
        broker.terminate()
        broker.wait(5)
    b, f = statistics.median(baseline), statistics.median(full)
    p95 = sorted(full)[int(0.95 * (len(full) - 1))]
    print(f"n={n}  baseline paho round trip median {b:.2f} ms")
    print(f"reading -> ingest -> alert: median {f:.2f} ms, p95 {p95:.2f} ms, max {max(full):.2f} ms")
    print(f"ingest_reading alone (no MQTT): median {statistics.median(direct):.2f} ms")
    verdict = "met" if p95 < 800 else "MISSED"
    print(f"ratio full/baseline (median): {f / b:.1f}x   seed target 800 ms at p95: {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
