"""Alembic upgrade/downgrade on SQLite and on a fresh PostgreSQL database; schema matches the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.support.postgres import temporary_database
from workflow.persistence.engine import make_engine
from workflow.persistence.migrate import downgrade_database, upgrade_database
from workflow.persistence.orm import Base

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    with temporary_database() as url:
        yield url


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


def test_0005_indexes_the_keys_of_existing_evidence(fresh_url: str) -> None:
    from sqlalchemy import text

    upgrade_database(fresh_url, "0004")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO hazards (id, kind, zone, area, source_kind, source_id, dedup_key,"
                    " repeat_key, state, likelihood, severity, level, level_rank, escalation_level,"
                    " repeat_flag,"
                    " discovered_at, notify_by, respond_by, fix_by, last_seen_at, evidence_count,"
                    " reopen_count, updated_at, version) VALUES (1, 'leak.leak', 'z', 'a', 'camera', 'c',"
                    " 'd', 'r', 'registered', 3, 4, 'orange', 2, 0, false, :t, :t, :t, :t, :t, 2, 0, :t, 1)"
                ),
                {"t": "2026-03-02 08:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO evidence (hazard_id, seq, kind, object_keys, created_by, at) VALUES"
                    " (1, 1, 'snapshot', :a, 'system', :t), (1, 2, 'note', '[]', 'system', :t)"
                ),
                {"a": '["' + "a" * 64 + '", "' + "b" * 64 + '"]', "t": "2026-03-02 08:00:00"},
            )
        upgrade_database(fresh_url, "head")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT key, hazard_id FROM evidence_objects ORDER BY key")).all()
        assert [tuple(r) for r in rows] == [("a" * 64, 1), ("b" * 64, 1)]
        downgrade_database(fresh_url, "0004")
        assert "evidence_objects" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
