"""The built-in command groups of the CLI; each module exposes ``register(app)``."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    """Attach every built-in command module to the root app."""
    # One import per command module; each module owns its commands and options.
    from serving.cli import camera_cmd, inspect_cmd

    camera_cmd.register(app)
    inspect_cmd.register(app)

    from serving.cli import serve_cmd

    serve_cmd.register(app)
    from serving.cli import worker_cmd

    worker_cmd.register(app)
    from serving.cli import db_cmd

    db_cmd.register(app)
    from serving.cli import users_cmd

    users_cmd.register(app)
    from serving.cli import verify_cmd

    verify_cmd.register(app)
    from serving.cli import watch_cmd

    watch_cmd.register(app)
