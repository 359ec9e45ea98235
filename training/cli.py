"""Training commands (train, evaluate, export, promote, dataset …), registered as a ``hazardeye.cli`` plugin.

Heavy imports (torch, ultralytics, onnxruntime, matplotlib) happen inside the commands so that
``hazardeye --help`` stays fast.
"""

from __future__ import annotations

import typer

import training.cli_campaign as cli_campaign
import training.cli_dataset as cli_dataset
import training.cli_model as cli_model


def register(app: typer.Typer) -> None:
    """Attach the training commands to the root CLI app."""
    cli_model.register(app)
    cli_campaign.register(app)
    dataset_app = typer.Typer(help="Check, split, merge and generate YOLO datasets.", no_args_is_help=True)
    cli_dataset.register(dataset_app)
    app.add_typer(dataset_app, name="dataset")
