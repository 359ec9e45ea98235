from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api import create_app
from serving.bootstrap import Container, bootstrap
from serving.settings import DatabaseSettings, HttpSettings, LocalObjectStoreSettings, Settings


def _settings(tmp_path: Path, objects_root: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'db' / 'hazardeye.db'}"),
        objects=LocalObjectStoreSettings(root=objects_root),
    )


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = bootstrap(_settings(tmp_path, tmp_path / "objects"))
    yield c
    c.close()


def test_health_reports_every_dependency_ready(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["live"] is True
    assert set(body["checks"]) == {"database", "objects", "tasks", "bus"}
    assert all(check["ok"] for check in body["checks"].values())


def test_health_is_503_with_the_failing_dependency_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    c = bootstrap(_settings(tmp_path, blocker / "objects"))
    try:
        with TestClient(create_app(c)) as client:
            response = client.get("/health")
    finally:
        c.close()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["objects"]["ok"] is False
    assert "objects" in body["checks"]["objects"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_metrics_expose_latency_queue_depth_cameras_inference_and_hazards(tmp_path: Path) -> None:
    """Every series gets real samples from the running parts: requests, a real photo analysis (the
    detector's latency, the hazard it opened) and the camera board `hazardeye serve` keeps."""
    from cameras.config import CameraConfig
    from cameras.health import StateChange, StreamState
    from serving.pipelines.camera_board import CameraBoard
    from tests.support.api import api_harness, embedded_settings
    from workflow.domain.roles import Role

    photo = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"
    settings = embedded_settings(tmp_path, http=HttpSettings(metrics_public=True))
    with api_harness(settings) as h:
        board = CameraBoard([
            CameraConfig(id="gate-1", name="Gate", zone="yard", url="rtsp://127.0.0.1:1/a"),
            CameraConfig(id="dock-2", name="Dock", zone="yard", url="rtsp://127.0.0.1:1/b"),
        ])  # fmt: skip
        snapshot_at = datetime.now(UTC) - timedelta(seconds=30)
        board.on_snapshot("gate-1", "a" * 64, snapshot_at)
        board.on_health(
            StateChange("gate-1", StreamState.CONNECTING, StreamState.STREAMING, snapshot_at, "ok", 0)
        )
        board.on_health(
            StateChange("dock-2", StreamState.CONNECTING, StreamState.OFFLINE, snapshot_at, "down", 3)
        )
        h.client.app.state.camera_board = board  # type: ignore[attr-defined]
        uploaded = h.client.post(
            "/api/v1/photos", files={"file": ("site.jpg", photo.read_bytes(), "image/jpeg")},
            data={"zone": "tank-farm"}, headers=h.auth(Role.INSPECTOR),
        )  # fmt: skip
        assert uploaded.status_code == 201, uploaded.text
        h.client.get("/health")
        text = h.client.get("/metrics").text
    assert (
        'hazardeye_http_request_duration_seconds_count{method="GET",route="/health",status="200"} 1.0' in text
    )
    assert "hazardeye_task_queue_depth 0.0" in text
    assert (
        'hazardeye_cameras{state="streaming"} 1.0' in text
        and 'hazardeye_cameras{state="offline"} 1.0' in text
    )
    assert 'hazardeye_cameras{state="degraded"} 0.0' in text
    gate_age = 'hazardeye_camera_snapshot_age_seconds{camera="gate-1"}'
    age = next(line for line in text.splitlines() if line.startswith(gate_age))
    assert 30.0 <= float(age.split()[-1]) < 90.0
    assert 'camera="dock-2"' not in text  # no snapshot yet: no age
    assert 'hazardeye_inference_duration_seconds_count{model="ppe@2"} 1.0' in text
    assert 'model="leak@1"' not in text  # the leak prototype does not run on photos unless opted in
    assert 'hazardeye_hazards_opened_total{kind="ppe.no_helmet"} 1.0' in text


def test_metrics_need_a_key_by_default(tmp_path: Path) -> None:
    from tests.support.api import api_harness, embedded_settings
    from workflow.domain.roles import Role

    with api_harness(embedded_settings(tmp_path)) as h:
        assert h.client.get("/metrics").status_code == 401
        assert h.client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        scraped = h.client.get("/metrics", headers=h.auth(Role.INSPECTOR))
        assert scraped.status_code == 200 and "hazardeye_task_queue_depth" in scraped.text


def test_each_app_has_its_own_registry(container: Container) -> None:
    a, b = create_app(container), create_app(container)
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_outages_say_which_dependency_is_down_not_where_it_lives(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.objects.port import ObjectStoreUnavailableError

    where = "object store unreachable: HTTPConnectionPool(host='minio.plant.internal', port=9000)"

    def down(*_args: object, **_kwargs: object) -> None:
        raise ObjectStoreUnavailableError(where)

    monkeypatch.setattr(container.objects, "ping", down)
    monkeypatch.setattr(container.objects, "put", down)
    with TestClient(create_app(container)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["objects"] == {
            "ok": False,
            "detail": "objects unavailable (ObjectStoreUnavailableError)",
        }
        assert "minio" not in health.text and "9000" not in health.text
