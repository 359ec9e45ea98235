"""An embedded-profile service for API tests: a container on a temporary SQLite file and object folder,
the real app, and one user (API key) per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from serving.api import create_app
from serving.bootstrap import Container, bootstrap
from serving.cli.admin import upgrade
from serving.settings import DatabaseSettings, LocalObjectStoreSettings, Settings
from serving.tasks.handlers import register_handlers
from workflow.domain.roles import Role
from workflow.services.users import create_user


@dataclass(frozen=True)
class ApiHarness:
    container: Container
    client: TestClient
    keys: dict[Role, str]

    def auth(self, role: Role) -> dict[str, str]:
        """Headers for a request made by the user holding ``role``."""
        return {"Authorization": f"Bearer {self.keys[role]}"}


def embedded_settings(tmp_path: Path, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "data_dir": tmp_path,
        "database": DatabaseSettings(url=f"sqlite:///{tmp_path / 'hazardeye.db'}"),
        "objects": LocalObjectStoreSettings(root=tmp_path / "objects"),
        **overrides,
    }
    return Settings(**fields)  # type: ignore[arg-type]


@contextmanager
def api_harness(settings: Settings) -> Iterator[ApiHarness]:
    """Migrate, bootstrap, create one user per role (named after the role) and serve the app."""
    upgrade(settings.database)
    container = bootstrap(settings)
    try:
        register_handlers(container)
        keys = {role: create_user(container.workflow, f"{role.value}-user", role)[1] for role in Role}
        with TestClient(create_app(container)) as client:
            yield ApiHarness(container, client, keys)
    finally:
        container.close()
