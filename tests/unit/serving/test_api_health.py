from __future__ import annotations

from collections.abc import Iterator
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


def test_metrics_expose_latency_queue_depth_and_camera_states(tmp_path: Path) -> None:
    open_metrics = _settings(tmp_path, tmp_path / "objects").model_copy(
        update={"http": HttpSettings(metrics_public=True)}
    )
    container = bootstrap(open_metrics)
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
    container.close()


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
