"""``hazardeye worker``: a Celery worker for the configured broker, running the same task handlers."""

from __future__ import annotations

from pathlib import Path

import typer


def worker(
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Worker processes."),
    loglevel: str = typer.Option("INFO", "--loglevel"),
    env_file: Path | None = typer.Option(
        None, "--env-file", help="Read HAZARDEYE_* settings from this file."
    ),
) -> None:
    """Consume tasks from the broker (needs HAZARDEYE_TASKS__KIND=celery)."""
    from serving.bootstrap import bootstrap
    from serving.settings import CeleryTaskSettings, load_settings
    from serving.tasks.celery_runner import build_celery_app
    from serving.tasks.handlers import register_handlers

    settings = load_settings(env_file)
    if not isinstance(settings.tasks, CeleryTaskSettings):
        typer.echo(
            "error: the worker needs the Celery task runner (HAZARDEYE_TASKS__KIND=celery); "
            "the embedded profile runs tasks inside `hazardeye serve`.",
            err=True,
        )
        raise typer.Exit(2)
    container = bootstrap(settings)
    try:
        register_handlers(container)
        app = build_celery_app(settings.tasks, container.task_registry)
        app.worker_main(
            ["worker", "-Q", settings.tasks.queue, f"--concurrency={concurrency}", f"--loglevel={loglevel}"]
        )
    finally:
        container.close()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
