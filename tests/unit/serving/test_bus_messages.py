from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from serving.bus import Alert, LocalBus, PayloadError, SensorReading, parse_sensor_message


def test_parses_sensor_reading() -> None:
    reading = parse_sensor_message(
        "hazardeye/sensors/cl2-03", b'{"value": 1.5, "timestamp": "2026-01-02T03:04:05Z"}'
    )
    assert reading == SensorReading(
        sensor_id="cl2-03", value=1.5, timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )


def test_naive_timestamp_is_taken_as_utc() -> None:
    reading = parse_sensor_message("hazardeye/sensors/a", b'{"value": 0, "timestamp": "2026-01-02T03:04:05"}')
    assert reading.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("hazardeye/sensors/a", b"{not json", "not valid JSON"),
        ("hazardeye/sensors/a", b"\xff\xfe", "not valid JSON"),
        ("hazardeye/sensors/a", b"[1, 2]", "JSON object"),
        ("hazardeye/sensors/a", b'{"value": 1}', "timestamp"),
        ("hazardeye/sensors/a", b'{"value": "high", "timestamp": "2026-01-01T00:00:00Z"}', "value"),
        ("hazardeye/sensors/a", b'{"value": NaN, "timestamp": "2026-01-01T00:00:00Z"}', "value"),
        ("hazardeye/sensors/a", b'{"value": 1, "timestamp": "2026-01-01T00:00:00Z", "x": 1}', "x"),
        ("hazardeye/sensors/a/b", b'{"value": 1, "timestamp": "2026-01-01T00:00:00Z"}', "topic"),
        ("other/sensors/a", b'{"value": 1, "timestamp": "2026-01-01T00:00:00Z"}', "topic"),
    ],
)
def test_malformed_messages_get_clear_errors(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_sensor_message(topic, payload)


def _alert(n: int) -> Alert:
    return Alert(
        alert_id=str(n), kind="sensor.tier", level=2, message="Cl2 1.5 ppm", created_at=datetime.now(UTC)
    )


def test_local_bus_fans_out_and_isolates_failing_subscribers() -> None:
    bus = LocalBus()
    seen: list[str] = []

    def broken(_: Alert) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe_alerts(broken)
    unsubscribe = bus.subscribe_alerts(lambda a: seen.append(a.alert_id))
    bus.publish_alert(_alert(1))
    unsubscribe()
    bus.publish_alert(_alert(2))
    assert seen == ["1"]


def test_local_bus_delivers_http_readings() -> None:
    bus = LocalBus()
    readings: list[SensorReading] = []
    bus.subscribe_readings(readings.append)
    reading = SensorReading(sensor_id="s1", value=0.4, timestamp=datetime.now(UTC))
    bus.deliver_reading(reading)
    assert readings == [reading]


def test_alerts_are_logged_at_warning_and_level_0_news_at_info(caplog: pytest.LogCaptureFixture) -> None:
    bus, at = LocalBus(), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with caplog.at_level(logging.INFO, logger="serving.bus.local"):
        bus.publish_alert(
            Alert(alert_id="a1", kind="camera.back", level=0, message="cam-1 streaming", created_at=at)
        )
        bus.publish_alert(
            Alert(alert_id="a2", kind="sensor.tier", level=1, message="cl2-03 tier 2", created_at=at)
        )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "ALERT camera.back level=0 cam-1 streaming"),
        ("WARNING", "ALERT sensor.tier level=1 cl2-03 tier 2"),
    ]
