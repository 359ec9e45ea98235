"""The built-in command groups of the CLI; each module exposes ``register(app)``."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    """Attach every built-in command module to the root app."""
    # One import per command module; each module owns its commands and options.
    from serving.cli import camera_cmd

    camera_cmd.register(app)
