"""Training commands (train, evaluate, export, promote), registered as a ``hazardeye.cli`` plugin."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the training commands to the root CLI app."""
