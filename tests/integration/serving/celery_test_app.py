"""The Celery app a test worker process loads (``celery -A celery_test_app``): the production
``build_celery_app`` with small file-writing handlers, configured from HAZARDEYE_ env like the real worker."""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel

from serving.settings import CeleryTaskSettings, load_settings
from serving.tasks.celery_runner import build_celery_app
from serving.tasks.port import TaskRegistry, TaskSpec


class Line(BaseModel):
    path: str
    text: str


class Flaky(BaseModel):
    path: str
    failures: int


def record(payload: Line) -> None:
    with Path(payload.path).open("a") as handle:
        handle.write(payload.text + "\n")


def flaky(payload: Flaky) -> None:
    log = Path(payload.path)
    with log.open("a") as handle:
        handle.write(f"{time.time()}\n")
    attempts = len(log.read_text().splitlines())
    if attempts <= payload.failures:
        raise RuntimeError(f"transient failure on attempt {attempts}")


def registry() -> TaskRegistry:
    reg = TaskRegistry()
    reg.register(TaskSpec("record", Line, record))
    reg.register(TaskSpec("flaky", Flaky, flaky, max_retries=3, backoff_s=0.3))
    return reg


_settings = load_settings().tasks
assert isinstance(_settings, CeleryTaskSettings)
app = build_celery_app(_settings, registry())
