"""``hazardeye users create NAME --role ROLE``: prints a new API key (shown once, stored hashed)."""

from __future__ import annotations

from pathlib import Path

import typer

users_app = typer.Typer(help="Manage users and API keys.", no_args_is_help=True)


@users_app.command("create")
def create_cmd(
    name: str = typer.Argument(..., help="User name (unique)."),
    role: str = typer.Option(
        ..., "--role", help="inspector | rectifier | reviewer | safety_engineer | admin"
    ),
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read HAZARDEYE_* settings from this file."
    ),
) -> None:
    """Create a user and print its API key (send it as 'Authorization: Bearer KEY')."""
    from serving.cli.admin import is_embedded_database, upgrade
    from serving.settings import load_settings
    from workflow.domain.errors import InvalidInput
    from workflow.persistence.engine import make_engine, make_session_factory
    from workflow.services.context import WorkflowContext
    from workflow.services.users import create_user

    settings = load_settings(env_file)
    if is_embedded_database(settings.database):
        upgrade(settings.database)  # embedded: nothing else would create the schema first
    engine = make_engine(settings.database.url)
    try:
        _user, key = create_user(WorkflowContext(make_session_factory(engine)), name, role)
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(key)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
