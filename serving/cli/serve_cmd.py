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

    from serving.api import create_app
    from serving.bootstrap import bootstrap
    from serving.bus.sensor_bridge import connect_sensor_readings
    from serving.cli.admin import ensure_admin, is_embedded_database, upgrade
    from serving.settings import load_settings

    settings = load_settings(env_file)
    if is_embedded_database(settings.database):
        upgrade(settings.database)  # production runs `hazardeye db upgrade` as its own deploy step
    container = bootstrap(settings)
    try:
        connect_sensor_readings(container.bus, container.workflow)
        key = ensure_admin(container.workflow)
        if key is not None:
            typer.echo(
                "First start: created user 'admin'. Its API key is shown only this once:\n"
                f"  {key}\nSend it as 'Authorization: Bearer <key>'.",
                err=True,
            )
        uvicorn.run(
            create_app(container),
            host=host or settings.http.host,
            port=port or settings.http.port,
            log_level="info",
        )
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
