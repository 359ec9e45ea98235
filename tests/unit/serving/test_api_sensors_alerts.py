"""Sensors, alerts (list, ack, live stream) and cameras over HTTP, on the embedded profile."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import pytest

from cameras.config import CameraConfig
from cameras.health import StateChange, StreamState
from serving.bus.messages import Alert
from serving.pipelines.camera_board import CameraBoard
from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.evidence import EvidenceKind
from workflow.domain.roles import Role
from workflow.services.camera_inspections import CameraFinding, CameraInspection, record_inspection
from workflow.services.queries import hazard_detail

ENGINEER, INSPECTOR = Role.SAFETY_ENGINEER, Role.INSPECTOR
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"
CL2 = {"zone": "tank-farm", "unit": "ppm", "thresholds": [1.0, 3.0], "hysteresis": 0.2}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def _define(api: ApiHarness, sensor_id: str = "cl2-1", body: dict[str, object] = CL2) -> httpx.Response:
    response: httpx.Response = api.client.put(
        f"/api/v1/sensors/{sensor_id}", json=body, headers=api.auth(ENGINEER)
    )
    return response


def _board(api: ApiHarness) -> CameraBoard:
    board = CameraBoard(
        [
            CameraConfig(id="cam-a", name="Tank A", url="rtsp://u:secret@10.0.0.1/a", zone="tank-farm"),
            CameraConfig(id="cam-b", name="Gate", url="rtsp://10.0.0.2/b", zone="gate", enabled=False),
        ]
    )
    api.client.app.state.camera_board = board  # type: ignore[attr-defined]
    return board


def test_sensor_definition_round_trip(api: ApiHarness) -> None:
    response = _define(api)
    assert response.status_code == 200, response.text
    sensor = response.json()
    assert sensor["thresholds"] == [
        {"tier": 2, "rising": 1.0, "falling": 0.8},
        {"tier": 3, "rising": 3.0, "falling": 2.8},
    ]
    assert (sensor["tier"], sensor["last_value"], sensor["stale"]) == (1, None, False)
    assert api.client.get("/api/v1/sensors/cl2-1", headers=api.auth(INSPECTOR)).json() == sensor
    assert [s["id"] for s in api.client.get("/api/v1/sensors", headers=api.auth(INSPECTOR)).json()] == [
        "cl2-1"
    ]


@pytest.mark.parametrize(
    ("raw", "role", "status"),
    [
        (json.dumps(CL2), INSPECTOR, 403),
        ('{"zone": "z", "unit": "ppm", "thresholds": [NaN]}', ENGINEER, 422),
        ('{"zone": "z", "unit": "ppm", "thresholds": [1.0, Infinity]}', ENGINEER, 422),
        ('{"zone": "z", "unit": "ppm", "thresholds": [3.0, 1.0]}', ENGINEER, 422),  # not increasing
        ('{"zone": "z", "unit": "ppm", "thresholds": [1.0], "hysteresis": -1}', ENGINEER, 422),
        ('{"zone": "z", "unit": "ppm", "thresholds": []}', ENGINEER, 422),
        ('{"zone": "z", "unit": "ppm", "thresholds": [1.0', ENGINEER, 422),  # malformed JSON
    ],
)
def test_sensor_definition_refusals(api: ApiHarness, raw: str, role: Role, status: int) -> None:
    headers = {**api.auth(role), "Content-Type": "application/json"}
    response = api.client.put("/api/v1/sensors/s1", content=raw.encode(), headers=headers)
    assert response.status_code == status, response.text
    assert api.client.get("/api/v1/sensors/s1", headers=api.auth(ENGINEER)).status_code == 404


def test_tier2_reading_alerts_opens_a_hazard_and_attaches_fresh_frames(api: ApiHarness) -> None:
    board = _board(api)
    stored = api.container.objects.put(FIXTURE.read_bytes(), content_type="image/jpeg")
    board.on_snapshot("cam-a", stored.key, datetime.now(UTC))
    assert _define(api).status_code == 200
    seen: list[Alert] = []
    api.container.bus.subscribe_alerts(seen.append)

    calm = api.client.post("/api/v1/sensors/cl2-1/readings", json={"value": 0.5}, headers=api.auth(INSPECTOR))
    assert calm.status_code == 200 and calm.json() == {"alerts": []}
    rising = api.client.post(
        "/api/v1/sensors/cl2-1/readings", json={"value": 2.0}, headers=api.auth(INSPECTOR)
    )
    assert rising.status_code == 200, rising.text
    [alert] = rising.json()["alerts"]
    assert (alert["kind"], alert["tier"], alert["previous_tier"], alert["zone"]) == (
        "sensor.tier",
        2,
        1,
        "tank-farm",
    )
    assert alert["hazard_id"] is not None
    assert [(a.kind, a.level, a.sensor_id) for a in seen] == [("sensor.tier", 2, "cl2-1")]

    detail = hazard_detail(api.container.workflow, alert["hazard_id"])
    assert detail.hazard.kind == "sensor.tier2"
    snapshots = [e for e in detail.evidence if e.kind is EvidenceKind.SNAPSHOT]
    assert [e.object_keys for e in snapshots] == [(stored.key,)]

    listed = api.client.get("/api/v1/alerts?unacknowledged=true", headers=api.auth(INSPECTOR)).json()
    assert [a["id"] for a in listed] == [alert["id"]]
    acked = api.client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=api.auth(INSPECTOR))
    assert acked.status_code == 200 and acked.json()["acknowledged"] is True
    assert api.client.get("/api/v1/alerts?unacknowledged=true", headers=api.auth(INSPECTOR)).json() == []
    assert len(api.client.get("/api/v1/alerts", headers=api.auth(INSPECTOR)).json()) == 1
    assert (
        api.client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=api.auth(INSPECTOR)).status_code == 422
    )


def test_stale_frames_are_not_attached(api: ApiHarness) -> None:
    board = _board(api)
    stored = api.container.objects.put(FIXTURE.read_bytes(), content_type="image/jpeg")
    board.on_snapshot("cam-a", stored.key, datetime.now(UTC) - timedelta(hours=1))
    _define(api)
    alert = api.client.post(
        "/api/v1/sensors/cl2-1/readings", json={"value": 5.0}, headers=api.auth(INSPECTOR)
    ).json()["alerts"][0]
    detail = hazard_detail(api.container.workflow, alert["hazard_id"])
    assert [e.kind for e in detail.evidence] == [EvidenceKind.SENSOR_READING]


@pytest.mark.parametrize(
    ("sensor", "raw", "role", "status"),
    [
        ("cl2-1", '{"value": NaN}', INSPECTOR, 422),
        ("cl2-1", '{"value": -Infinity}', INSPECTOR, 422),
        ("cl2-1", '{"value": "high"}', INSPECTOR, 422),
        ("cl2-1", '{"value": 1.0, "at": "2026-01-01T00:00:00"}', INSPECTOR, 422),  # naive time
        ("cl2-1", '{"value": 1.0, "at": "2099-01-01T00:00:00Z"}', INSPECTOR, 422),  # clock skew
        ("cl2-1", '{"value": -3}', INSPECTOR, 422),  # below the sensor's minimum
        ("cl2-1", '{"value": ', INSPECTOR, 422),
        ("cl2-1", '{"value": 2.0}', Role.REVIEWER, 403),
        ("nope", '{"value": 2.0}', INSPECTOR, 404),
        ("bad id", '{"value": 2.0}', INSPECTOR, 422),
    ],
)
def test_reading_refusals(api: ApiHarness, sensor: str, raw: str, role: Role, status: int) -> None:
    _define(api)
    headers = {**api.auth(role), "Content-Type": "application/json"}
    response = api.client.post(f"/api/v1/sensors/{sensor}/readings", content=raw.encode(), headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["detail"]["error"] in {"invalid_input", "forbidden", "not_found"}
    assert api.client.get("/api/v1/alerts", headers=api.auth(INSPECTOR)).json() == []


def test_alert_ack_unknown_and_roles(api: ApiHarness) -> None:
    assert api.client.post("/api/v1/alerts/42/ack", headers=api.auth(INSPECTOR)).status_code == 404
    assert api.client.post("/api/v1/alerts/42/ack", headers=api.auth(Role.RECTIFIER)).status_code == 403
    assert api.client.get("/api/v1/alerts?limit=0", headers=api.auth(INSPECTOR)).status_code == 422
    assert api.client.get("/api/v1/alerts").status_code == 401


def test_alert_stream_delivers_published_alerts_as_server_sent_events(api: ApiHarness) -> None:
    result: dict[str, httpx.Response] = {}

    def listen() -> None:
        result["r"] = api.client.get("/api/v1/alerts/stream?max_events=2", headers=api.auth(INSPECTOR))

    listener = threading.Thread(target=listen)
    listener.start()
    n = 0
    # Publish until the stream has seen two (it subscribes once the response starts).
    while listener.is_alive() and n < 400:
        n += 1
        api.container.bus.publish_alert(
            Alert(
                alert_id=f"a{n}",
                kind="sensor.tier",
                level=2,
                message="Cl2 2 ppm",
                created_at=datetime.now(UTC),
            )
        )
        listener.join(0.05)
    listener.join(5)
    response = result["r"]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block.startswith("id: ")]
    assert len(events) == 2
    ids = [int(block.split("\n")[0].removeprefix("id: a")) for block in events]
    assert ids[1] == ids[0] + 1  # consecutive alerts, in publish order
    data = events[0].split("\n")[2].removeprefix("data: ")
    assert Alert.model_validate_json(data).kind == "sensor.tier"
    assert api.client.get("/api/v1/alerts/stream").status_code == 401


def test_cameras_list_state_and_snapshot(api: ApiHarness) -> None:
    board = _board(api)
    listed = api.client.get("/api/v1/cameras", headers=api.auth(INSPECTOR)).json()
    assert [(c["id"], c["state"], c["zone"]) for c in listed] == [
        ("cam-a", "connecting", "tank-farm"),
        ("cam-b", "disabled", "gate"),
    ]
    assert "secret" not in json.dumps(listed)  # the camera URL (with its password) is never served
    not_yet = api.client.get("/api/v1/cameras/cam-a/snapshot", headers=api.auth(INSPECTOR))
    assert not_yet.status_code == 404

    now = datetime.now(UTC)
    board.on_health(
        StateChange("cam-a", StreamState.CONNECTING, StreamState.STREAMING, now, "valid frame", 0)
    )
    image = cv2.imread(str(FIXTURE))
    assert image is not None
    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    stored = api.container.objects.put(jpeg.tobytes(), content_type="image/jpeg")
    board.on_snapshot("cam-a", stored.key, now)
    camera = api.client.get("/api/v1/cameras/cam-a", headers=api.auth(INSPECTOR)).json()
    assert (camera["state"], camera["snapshot_key"], camera["last_error"]) == ("streaming", stored.key, None)
    snap = api.client.get("/api/v1/cameras/cam-a/snapshot", headers=api.auth(INSPECTOR))
    assert snap.status_code == 200 and snap.headers["content-type"] == "image/jpeg"
    assert snap.content == jpeg.tobytes()

    board.on_health(
        StateChange("cam-a", StreamState.STREAMING, StreamState.OFFLINE, now, "connection refused", 3)
    )
    camera = api.client.get("/api/v1/cameras/cam-a", headers=api.auth(INSPECTOR)).json()
    assert (camera["state"], camera["last_error"]) == ("offline", "connection refused")

    assert api.client.get("/api/v1/cameras/nope", headers=api.auth(INSPECTOR)).status_code == 404
    assert api.client.get("/api/v1/cameras/nope/snapshot", headers=api.auth(INSPECTOR)).status_code == 404
    assert api.client.get("/api/v1/cameras/bad%20id", headers=api.auth(INSPECTOR)).status_code == 422
    assert api.client.get("/api/v1/cameras").status_code == 401


def test_camera_findings_from_inspections_run_elsewhere_reach_the_board(api: ApiHarness) -> None:
    board = _board(api)
    now = datetime.now(UTC)
    head = CameraFinding("ppe.no_helmet", 0.75, (10.0, 20.0, 30.0, 40.0), "tank-farm")
    # What a Celery worker stores after inspecting a frame of cam-a (this process never saw it).
    record_inspection(api.container.workflow, CameraInspection("cam-a", now, "a" * 64, 4, (head,)))
    camera = api.client.get("/api/v1/cameras/cam-a", headers=api.auth(INSPECTOR)).json()
    assert (camera["people_last"], camera["annotated_key"]) == (4, "a" * 64)
    assert camera["findings_last"] == [
        {"kind": "ppe.no_helmet", "confidence": 0.75, "box": [10.0, 20.0, 30.0, 40.0], "zone": "tank-farm"}
    ]
    # A newer inspection seen in this process is not replaced by an older stored one.
    board.on_inspection("cam-a", now + timedelta(seconds=5), (), 0, "b" * 64)
    listed = api.client.get("/api/v1/cameras", headers=api.auth(INSPECTOR)).json()
    cam_a = next(c for c in listed if c["id"] == "cam-a")
    assert (cam_a["people_last"], cam_a["annotated_key"]) == (0, "b" * 64)


def test_cameras_empty_without_a_monitor(api: ApiHarness) -> None:
    assert api.client.get("/api/v1/cameras", headers=api.auth(INSPECTOR)).json() == []


def test_operations_routes_are_in_the_openapi_document(api: ApiHarness) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/cameras/{camera_id}/snapshot",
        "/api/v1/zones/{zone_id}",
        "/api/v1/permits/{permit_id}/approve",
        "/api/v1/sensors/{sensor_id}/readings",
        "/api/v1/alerts/stream",
    ):
        assert path in paths
    assert "text/event-stream" in paths["/api/v1/alerts/stream"]["get"]["responses"]["200"]["content"]
    assert "403" in paths["/api/v1/sensors/{sensor_id}/readings"]["post"]["responses"]
