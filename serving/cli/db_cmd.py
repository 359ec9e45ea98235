"""``hazardeye db upgrade``: run the workflow's Alembic migrations on the configured database."""

from __future__ import annotations

from pathlib import Path

import typer

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_cmd(
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read HAZARDEYE_* settings from this file."
    ),
) -> None:
    """Apply all migrations up to the latest revision (safe to run repeatedly)."""
    from serving.cli.admin import upgrade
    from serving.settings import load_settings

    settings = load_settings(env_file)
    upgrade(settings.database)
    typer.echo("database is up to date")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
