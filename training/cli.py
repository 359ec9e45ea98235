"""Training commands (train, evaluate, export, promote, dataset …), registered as a ``hazardeye.cli`` plugin.

Heavy imports (torch, ultralytics, onnxruntime, matplotlib) happen inside the commands so that
``hazardeye --help`` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer

import training.cli_calibrate as cli_calibrate
import training.cli_campaign as cli_campaign
import training.cli_dataset as cli_dataset
import training.cli_model as cli_model
import training.cli_quantize as cli_quantize

# What the [train] extra brings; a command that reaches for one of these without it gets one clear line.
TRAIN_EXTRA_MODULES = frozenset({"ultralytics", "torch", "torchvision", "onnx", "onnxslim", "matplotlib"})


def _needs_train_extra(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing not in TRAIN_EXTRA_MODULES:
                raise
            typer.echo(
                f"this command needs the [train] extra ({missing} is not installed): "
                "pip install 'hazardeye[train]'  (or: scripts/install train)",
                err=True,
            )
            raise typer.Exit(2) from exc

    return run


def _wrap_new_commands(app: typer.Typer, start: int) -> None:
    for info in app.registered_commands[start:]:
        if info.callback is not None:
            info.callback = _needs_train_extra(info.callback)


def register(app: typer.Typer) -> None:
    """Attach the training commands to the root CLI app."""
    start = len(app.registered_commands)
    cli_model.register(app)
    cli_quantize.register(app)
    cli_calibrate.register(app)
    cli_campaign.register(app)
    _wrap_new_commands(app, start)
    dataset_app = typer.Typer(help="Check, split, merge and generate YOLO datasets.", no_args_is_help=True)
    cli_dataset.register(dataset_app)
    _wrap_new_commands(dataset_app, 0)
    app.add_typer(dataset_app, name="dataset")
