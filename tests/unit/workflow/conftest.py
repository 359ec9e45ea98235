"""SQLite-backed workflow context for unit tests (migrated once, copied per test)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workflow.domain.clock import FakeClock
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.services.context import WorkflowContext

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wf") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def sqlite_ctx(_template_db: Path, tmp_path: Path, clock: FakeClock) -> Iterator[WorkflowContext]:
    db = tmp_path / "wf.db"
    shutil.copy(_template_db, db)
    engine = make_engine(f"sqlite:///{db}")
    yield WorkflowContext(make_session_factory(engine), clock)
    engine.dispose()
