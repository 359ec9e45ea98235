from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from serving.api import create_app
from serving.api.auth import require_roles
from serving.bootstrap import Container, bootstrap
from serving.cli.admin import ensure_admin, upgrade
from serving.settings import DatabaseSettings, LocalObjectStoreSettings, Settings
from workflow.domain.roles import Actor, Role
from workflow.services.users import create_user


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'hazardeye.db'}"),
        objects=LocalObjectStoreSettings(root=tmp_path / "objects"),
    )
    upgrade(settings.database)
    c = bootstrap(settings)
    yield c
    c.close()


def _app(container: Container) -> FastAPI:
    app = create_app(container)

    # A mutating endpoint guarded like the real ones.
    @app.post("/test/review")
    def review(actor: Actor = Depends(require_roles(Role.REVIEWER))) -> dict[str, str]:
        return {"by": actor.name}

    return app


def test_bearer_key_identifies_the_actor(container: Container) -> None:
    _user, key = create_user(container.workflow, "li", Role.INSPECTOR)
    with TestClient(_app(container)) as client:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json() == {"name": "li", "role": "inspector"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing API key: send 'Authorization: Bearer KEY'"),
        ("Basic dXNlcjpwYXNz", "missing API key: send 'Authorization: Bearer KEY'"),
        ("Bearer wrong-key", "unknown or disabled API key"),
    ],
)
def test_missing_or_unknown_key_is_401_json(container: Container, header: str | None, message: str) -> None:
    headers = {"Authorization": header} if header else {}
    with TestClient(_app(container)) as client:
        response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": {"error": "unauthenticated", "message": message}}


def test_roles_are_checked_on_mutating_endpoints(container: Container) -> None:
    _u, inspector = create_user(container.workflow, "insp", Role.INSPECTOR)
    _u, reviewer = create_user(container.workflow, "rev", Role.REVIEWER)
    with TestClient(_app(container)) as client:
        refused = client.post("/test/review", headers={"Authorization": f"Bearer {inspector}"})
        allowed = client.post("/test/review", headers={"Authorization": f"Bearer {reviewer}"})
    assert refused.status_code == 403
    assert refused.json()["detail"]["error"] == "forbidden"
    assert refused.json()["detail"]["message"] == (
        "role 'inspector' may not do this; needs one of ['admin', 'reviewer']"
    )
    assert allowed.status_code == 200
    assert allowed.json() == {"by": "rev"}


def test_first_start_admin_key_is_created_once_and_works(container: Container) -> None:
    key = ensure_admin(container.workflow)
    assert key is not None
    assert ensure_admin(container.workflow) is None  # never printed again
    with TestClient(_app(container)) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        admin_may = client.post("/test/review", headers={"Authorization": f"Bearer {key}"})
    assert me.json() == {"name": "admin", "role": "admin"}
    assert admin_may.status_code == 200
