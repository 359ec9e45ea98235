"""Shared CLI helpers: load settings once per command, prepare the database, first-start admin key."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from serving.settings import DatabaseSettings
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Role
from workflow.persistence.migrate import upgrade_database
from workflow.services.context import WorkflowContext
from workflow.services.users import create_user

ADMIN_NAME = "admin"


def is_embedded_database(settings: DatabaseSettings) -> bool:
    return make_url(settings.url).get_backend_name() == "sqlite"


def upgrade(settings: DatabaseSettings) -> None:
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.url)


def ensure_admin(ctx: WorkflowContext) -> str | None:
    """Create the first admin with a random API key; returns the key only when it was just created,
    so it is printed exactly once (only its hash is stored)."""
    try:
        _user, key = create_user(ctx, ADMIN_NAME, Role.ADMIN)
    except InvalidInput:
        return None  # already exists: the key was shown on the first start
    return key
