"""A real ``hazardeye worker`` process for the production-profile tests: its environment from ``Settings``
and a wait for Celery's "ready" line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from serving.settings import CeleryTaskSettings, S3ObjectStoreSettings, Settings

VENV_BIN = Path(sys.executable).parent


def worker_env(settings: Settings) -> dict[str, str]:
    objects, tasks = settings.objects, settings.tasks
    assert isinstance(objects, S3ObjectStoreSettings) and isinstance(tasks, CeleryTaskSettings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDEYE_")}
    return env | {
        "HAZARDEYE_DATA_DIR": str(settings.data_dir),
        "HAZARDEYE_DATABASE__URL": settings.database.url,
        "HAZARDEYE_OBJECTS__KIND": "s3",
        "HAZARDEYE_OBJECTS__ENDPOINT": objects.endpoint,
        "HAZARDEYE_OBJECTS__ACCESS_KEY": objects.access_key,
        "HAZARDEYE_OBJECTS__SECRET_KEY": objects.secret_key.get_secret_value(),
        "HAZARDEYE_OBJECTS__BUCKET": objects.bucket,
        "HAZARDEYE_OBJECTS__REGION": objects.region or "",
        "HAZARDEYE_TASKS__KIND": "celery",
        "HAZARDEYE_TASKS__BROKER_URL": tasks.broker_url,
        "HAZARDEYE_TASKS__RESULT_BACKEND": tasks.result_backend or "",
        "HAZARDEYE_TASKS__QUEUE": tasks.queue,
    }


def wait_ready(worker: subprocess.Popen[bytes], log: Path, timeout: float = 300.0) -> None:
    """Worker start-up (imports, bootstrap) takes minutes on a loaded 2-core machine: wait for it first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError(f"worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
        if " ready." in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise AssertionError(f"worker not ready after {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_worker(settings: Settings, workdir: Path) -> Iterator[Path]:
    """Start one worker (concurrency 1) and wait until it is ready; yields its log file."""
    log_path = workdir / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [str(VENV_BIN / "hazardeye"), "worker", "--concurrency", "1", "--loglevel", "INFO"],
            env=worker_env(settings), cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_ready(worker, log_path)
            yield log_path
        finally:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.kill()
