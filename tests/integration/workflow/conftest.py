"""Workflow contexts over SQLite and a fresh PostgreSQL database (created per run, dropped after)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.support.postgres import temporary_database
from workflow.domain.clock import FakeClock
from workflow.domain.observations import Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.persistence.orm import Base
from workflow.services.context import WorkflowContext
from workflow.services.users import create_user

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wf") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        db = tmp_path / "wf.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        eng = make_engine(f"sqlite:///{db}")
        yield eng
        eng.dispose()
        return
    pg: Engine = request.getfixturevalue("pg_engine")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield pg


@pytest.fixture
def ctx(engine: Engine, clock: FakeClock) -> WorkflowContext:
    return WorkflowContext(make_session_factory(engine), clock)


def _make_obs(n: int, at: datetime, **kw: object) -> Observation:
    base: dict[str, object] = {
        "observation_id": f"obs-{n}",
        "kind": "ppe.no_helmet",
        "confidence": 0.9,
        "zone": "z1",
        "source_kind": SourceKind.CAMERA,
        "source_id": "cam1",
        "observed_at": at,
        "evidence_keys": (f"snap/{n}.jpg",),
    }
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def _users(ctx: WorkflowContext) -> dict[str, Actor]:
    out = {}
    for name, role in [
        ("insp", Role.INSPECTOR),
        ("eng", Role.SAFETY_ENGINEER),
        ("eng2", Role.SAFETY_ENGINEER),
        ("fixer", Role.RECTIFIER),
        ("rev", Role.REVIEWER),
        ("rev2", Role.REVIEWER),
        ("boss", Role.ADMIN),
    ]:
        view, _ = create_user(ctx, name, role)
        out[name] = Actor(view.id, view.name, view.role)
    return out


ObsFactory = Callable[..., Observation]


@pytest.fixture
def make_obs() -> ObsFactory:
    return _make_obs


@pytest.fixture
def actors(ctx: WorkflowContext) -> dict[str, Actor]:
    return _users(ctx)
