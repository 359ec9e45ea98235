"""``hazardeye serve``: the API (and, on the embedded profile, everything else) in one process."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str | None = typer.Option(None, "--host", help="Override settings.http.host."),
    port: int | None = typer.Option(None, "--port", help="Override settings.http.port."),
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read HAZARDEYE_* settings from this file."
    ),
) -> None:
    """Run the HTTP API with uvicorn on the configured address."""
    import uvicorn

    from cameras.config import CameraConfigError
    from serving.api import create_app
    from serving.bootstrap import bootstrap
    from serving.cli.admin import ensure_admin, is_embedded_database, upgrade
    from serving.pipelines.background import start_background
    from serving.settings import load_settings
    from serving.tasks.handlers import register_handlers

    settings = load_settings(env_file)
    if is_embedded_database(settings.database):
        upgrade(settings.database)  # production runs `hazardeye db upgrade` as its own deploy step
    container = bootstrap(settings)
    try:
        register_handlers(container)
        key = ensure_admin(container.workflow)
        if key is not None:
            typer.echo(
                "First start: created user 'admin'. Its API key is shown only this once:\n"
                f"  {key}\nSend it as 'Authorization: Bearer <key>'.",
                err=True,
            )
        try:
            background = start_background(container)  # cameras, sweeps, sensor readings from the bus
        except CameraConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        app = create_app(container)
        app.state.camera_board = background.board  # read by the /cameras routes
        try:
            uvicorn.run(
                app, host=host or settings.http.host, port=port or settings.http.port, log_level="info"
            )
        finally:
            background.stop()
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
