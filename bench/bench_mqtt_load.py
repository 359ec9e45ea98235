"""MQTT sensor load: readings at a steady rate → the service's bus intake → alerts on MQTT (issue 12).

    python bench/bench_mqtt_load.py [--rate 1000] [--seconds 60] [--sensors 100] [--postgres URL]

A private mosquitto (default configuration, as a plant's broker would be) and the production bus code
(``MqttBus`` + ``connect_sensor_readings``) over SQLite (or PostgreSQL). ``--sensors`` sensors publish
round-robin at ``--rate`` readings/s in total, QoS 1, from their own process; every 100th reading of a
sensor crosses tier 2 (opening or feeding a hazard) and the next one falls back (two alerts); the sensors'
crossings are spread out (``--burst``: all sensors cross at the same moment, like one gas cloud). A
watcher in that process receives the alerts; latency is publish of the crossing reading → its alert
received. Reported: p50/p95/p99 latency against the bare broker round trip measured in the same run,
readings stored, alerts lost.
"""

from __future__ import annotations

import argparse
import json
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
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving.bus.mqtt import MqttBus, no_delay  # noqa: E402
from serving.bus.sensor_bridge import connect_sensor_readings  # noqa: E402
from serving.cli.admin import upgrade  # noqa: E402
from serving.settings import DatabaseSettings, MqttBusSettings  # noqa: E402
from workflow.domain.roles import SYSTEM  # noqa: E402
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis  # noqa: E402
from workflow.persistence.engine import make_engine, make_session_factory  # noqa: E402
from workflow.persistence.orm import AlertRow, SensorRow  # noqa: E402
from workflow.services.context import WorkflowContext  # noqa: E402
from workflow.services.sensors import define_sensor  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(port: int, topic: str | None, on_message: mqtt.CallbackOnMessage | None = None) -> mqtt.Client:
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"load-{time.monotonic_ns()}")
    client.max_inflight_messages_set(1000)
    client.on_socket_open = no_delay
    client.on_connect = lambda c, *_: (c.subscribe(topic, qos=1) if topic else None, ready.set())
    if on_message is not None:
        client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.wait(5)
    time.sleep(0.2)
    return client


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def generate(port: int, rate: float, seconds: float, sensor_count: int, burst: bool) -> None:
    """The sensors and the control room, in their own process: publish at the rate, time the alerts."""
    sensors = [f"load-{i:03d}" for i in range(sensor_count)]
    sent: dict[tuple[str, str], float] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def on_alert(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        body = json.loads(message.payload)
        at = datetime.fromisoformat(body["created_at"]).astimezone(UTC).isoformat()
        with lock:
            started = sent.pop((body["sensor_id"], at), None)
            if started is not None:
                latencies.append((now - started) * 1000)

    _client(port, "hazardeye/alerts/#", on_alert)
    publisher = _client(port, None)
    total = int(rate * seconds)
    counts = dict.fromkeys(sensors, 0)
    last_at: dict[str, str] = {}
    crossed: set[str] = set()
    started = time.perf_counter()
    for n in range(total):
        pause = started + n / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        index = n % len(sensors)
        sensor = sensors[index]
        counts[sensor] += 1
        k = (counts[sensor] + (0 if burst else index)) % 100  # --burst: every sensor crosses at once
        at = datetime.now(UTC).isoformat()
        if k == 50 or (k == 51 and sensor in crossed):  # the crossing and the fall back: two alerts
            crossed.add(sensor)
            with lock:
                sent[(sensor, at)] = time.perf_counter()
        last_at[sensor] = at
        payload = json.dumps({"value": 3.5 if k == 50 else 0.5, "timestamp": at})
        publisher.publish(f"hazardeye/sensors/{sensor}", payload, qos=1)
    publish_s = time.perf_counter() - started
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if not sent:
                break
        time.sleep(0.05)
    with lock:
        print(json.dumps({"total": total, "publish_s": publish_s, "drained_s": time.perf_counter() - started,
                          "latencies": latencies, "lost": len(sent), "last_at": last_at}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--sensors", type=int, default=100)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of a scratch SQLite file")
    parser.add_argument("--burst", action="store_true", help="all sensors cross tier 2 at the same moment")
    parser.add_argument("--generate", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rate, args.seconds, args.sensors, args.burst)
        return

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port, work = _free_port(), Path(tempfile.mkdtemp(prefix="hz-load-"))
    (work / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    broker = subprocess.Popen([binary, "-c", str(work / "m.conf")], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        run(args, port, work)
    finally:
        broker.terminate()
        broker.wait(5)


def run(args: argparse.Namespace, port: int, work: Path) -> None:
    got = threading.Event()
    echo = _client(port, "bench/echo", lambda *_: got.set())
    baseline = []
    for _ in range(200):
        got.clear()
        start = time.perf_counter()
        echo.publish("bench/echo", b"x", qos=1)
        got.wait(5)
        baseline.append((time.perf_counter() - start) * 1000)
    echo.disconnect()

    db = DatabaseSettings(url=args.postgres or f"sqlite:///{work / 'h.db'}")
    upgrade(db)
    engine = make_engine(db.url)
    ctx = WorkflowContext(make_session_factory(engine))
    sensors = [f"load-{i:03d}" for i in range(args.sensors)]
    for sensor in sensors:
        define_sensor(
            ctx,
            SensorDefinition(sensor, f"zone-{sensor[-1]}", "ppm", tiers_with_hysteresis((1.0,), 0.2)),
            SYSTEM,
        )
    bus = MqttBus(MqttBusSettings(kind="mqtt", port=port))
    bus.start(wait_s=5)
    stop_intake = connect_sensor_readings(bus, ctx)

    command = [sys.executable, __file__, "--generate", str(port), "--rate", str(args.rate),
               "--seconds", str(args.seconds), "--sensors", str(args.sensors)]  # fmt: skip
    command += ["--burst"] if args.burst else []
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    stop_intake()  # ingests what is still queued, then stops
    bus.close()
    with ctx.uow() as uow:
        alerts = int(uow.session.scalar(select(func.count()).select_from(AlertRow)) or 0)
        stored = {row.id: row.last_at for row in uow.session.scalars(select(SensorRow))}
    engine.dispose()
    latencies, last_at = result["latencies"], result["last_at"]
    behind = sum(
        1 for s in sensors if stored[s] is None or stored[s].astimezone(UTC).isoformat() != last_at.get(s, "")
    )
    total, publish_s = result["total"], result["publish_s"]
    database = "PostgreSQL" if args.postgres else "SQLite"
    offered = total / publish_s
    print(f"{total} readings in {publish_s:.1f} s ({offered:.0f}/s offered), {args.sensors} sensors, "
          f"{database}; load generator in its own process")  # fmt: skip
    print(f"bare broker round trip: median {statistics.median(baseline):.2f} ms")
    if latencies:
        p50, p95, p99 = (_percentile(latencies, q) for q in (0.5, 0.95, 0.99))
        ratio = p99 / statistics.median(baseline)
        print(f"reading -> alert: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
              f"max {max(latencies):.1f} ms (p99 {ratio:.0f}x the broker round trip)")  # fmt: skip
    lost = result["lost"]
    met = latencies and _percentile(latencies, 0.99) < 100 and lost == 0 and behind == 0
    print(
        f"alerts received {len(latencies)}, lost {lost}; stored alerts {alerts}; sensors whose last reading "
        f"is missing {behind}; target p99 < 100 ms, none lost: {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
