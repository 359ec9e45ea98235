from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api import create_app
from serving.bootstrap import Container, bootstrap
from serving.settings import DatabaseSettings, LocalObjectStoreSettings, Settings


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


def test_metrics_expose_latency_queue_depth_and_camera_states(container: Container) -> None:
    app = create_app(container)
    app.state.metrics.set_camera_states({"online": 3, "offline": 1})
    app.state.metrics.inference_latency.labels(model="ppe@1").observe(0.02)
    with TestClient(app) as client:
        client.get("/health")
        client.get("/health")
        text = client.get("/metrics").text
    assert (
        'hazardeye_http_request_duration_seconds_count{method="GET",route="/health",status="200"} 2.0' in text
    )
    assert "hazardeye_task_queue_depth 0.0" in text
    assert 'hazardeye_cameras{state="online"} 3.0' in text
    assert 'hazardeye_inference_duration_seconds_count{model="ppe@1"} 1.0' in text


def test_each_app_has_its_own_registry(container: Container) -> None:
    a, b = create_app(container), create_app(container)
    assert a.state.metrics.registry is not b.state.metrics.registry
