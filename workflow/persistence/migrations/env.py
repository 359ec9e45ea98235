"""Alembic environment: uses the project's engine factory (SQLite pragmas, pool_pre_ping)."""

from __future__ import annotations

from alembic import context

from workflow.persistence import photo_rows  # noqa: F401  (registers the photo tables on Base.metadata)
from workflow.persistence.engine import make_engine
from workflow.persistence.orm import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set; call workflow.persistence.migrate.upgrade_database(url)"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
