"""The ``hazardeye`` command line: one typer app; each command group lives in its own module.

Optional groups (training) are discovered as ``hazardeye.cli`` entry points so that ``serving`` never
imports ``training`` and the CLI still works when the ``[train]`` extra is not installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

app = typer.Typer(
    name="hazardeye",
    help="Self-hosted computer-vision inspection for industrial safety.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_builtin_commands() -> None:
    # Imported here, not at module top, so `hazardeye --help` stays fast and each group stays optional.
    from serving.cli import registry

    registry.register_all(app)


def _register_plugins() -> None:
    for entry in entry_points(group="hazardeye.cli"):
        try:
            register = entry.load()
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] == entry.value.split(".")[0]:
                raise  # the plugin itself is broken: say so rather than hide its commands
            continue  # a dependency of an optional extra (e.g. [train]) is not installed
        register(app)


@app.command()
def version() -> None:
    """Print the installed hazardeye version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("hazardeye"))


def main() -> None:
    _register_builtin_commands()
    _register_plugins()
    app()


if __name__ == "__main__":
    main()
