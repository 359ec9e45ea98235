"""Alembic upgrade/downgrade on SQLite and on a fresh PostgreSQL database; schema matches the models."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from workflow.persistence.engine import make_engine
from workflow.persistence.migrate import downgrade_database, upgrade_database
from workflow.persistence.orm import Base

pytestmark = pytest.mark.integration
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"hazardeye_test_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    upgrade_database(fresh_url)
    engine = make_engine(fresh_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= names
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        downgrade_database(fresh_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(fresh_url, "head")
        assert "hazards" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
