"""``hazardeye serve``: the API (and, on the embedded profile, everything else) in one process."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

# The service's own loggers; the rest (libraries) keep Python's default of warnings and worse.
_SERVICE_LOGGERS = ("serving", "cameras", "workflow", "vision")


def log_service_events(level: str) -> None:
    """Send the service's own log lines at ``level`` and above to stderr, with time and origin: without a
    handler Python shows warnings only, and news such as a camera coming back (info) went unlogged."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in _SERVICE_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        logger.addHandler(handler)
        logger.propagate = False  # once is enough, whatever handlers a library gives the root logger


def serve(
    host: str | None = typer.Option(None, "--host", help="Override settings.http.host."),
    port: int | None = typer.Option(None, "--port", help="Override settings.http.port."),
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read HAZARDEYE_* settings from this file."
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
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

    if log_level.lower() not in ("debug", "info", "warning", "error"):
        typer.echo(f"error: --log-level must be debug, info, warning or error, not {log_level!r}", err=True)
        raise typer.Exit(2)
    log_service_events(log_level)
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
                app,
                host=host or settings.http.host,
                port=port or settings.http.port,
                log_level=log_level.lower(),
            )
        finally:
            background.stop()
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
