"""Celery adapter: one Celery task per ``TaskSpec``; the worker process runs the same handlers.

Reliability choices: late acks + reject on worker loss (a killed worker's task is redelivered, which
is why handlers are idempotent), prefetch 1 (long inference tasks do not pile up on one worker),
JSON only (no pickle from the broker).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Celery, Task
from celery.result import AsyncResult
from pydantic import BaseModel

from serving.settings import CeleryTaskSettings
from serving.tasks.port import TaskQueueUnavailableError, TaskRegistry, TaskSpec, backoff_delay

log = logging.getLogger(__name__)

_DONE_STATES = {"SUCCESS", "STARTED", "RETRY"}


def celery_task_name(name: str) -> str:
    return f"hazardeye.{name}"


def build_celery_app(settings: CeleryTaskSettings, registry: TaskRegistry) -> Celery:
    app = Celery("hazardeye", broker=settings.broker_url, backend=settings.result_backend)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.queue,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    for spec in registry:
        _register(app, spec, settings.max_retries)
    return app


def _register(app: Celery, spec: TaskSpec[BaseModel], max_retries_cap: int) -> None:
    max_retries = min(spec.max_retries, max_retries_cap)

    def run(task: Task[Any, Any], raw: str) -> None:
        try:
            spec.run_json(raw)
        except Exception as exc:
            if task.request.retries >= max_retries:
                raise
            delay = backoff_delay(spec, task.request.retries)
            log.warning(
                "task %s failed (%s); retry %d in %.2fs", spec.name, exc, task.request.retries + 1, delay
            )
            raise task.retry(exc=exc, countdown=delay, max_retries=max_retries) from exc

    app.task(name=celery_task_name(spec.name), bind=True)(run)


class CeleryTaskRunner:
    def __init__(self, app: Celery, registry: TaskRegistry, *, queue: str) -> None:
        self._app = app
        self._registry = registry
        self._queue = queue

    @property
    def app(self) -> Celery:
        return self._app

    def submit(self, name: str, payload: BaseModel, *, key: str | None = None) -> str:
        self._registry.get(name)  # fail fast on unknown names, in the caller's process
        # Keys are namespaced by queue: two deployments (or test runs) sharing a result backend must not
        # mistake each other's finished tasks for their own.
        task_id = f"{self._queue}:{key}" if key is not None else uuid.uuid4().hex
        # Skip keys the backend already knows about; a race between two submits is covered by the
        # handlers being idempotent.
        known = key is not None and bool(self._app.conf.result_backend)
        try:
            if known and AsyncResult(task_id, app=self._app).state in _DONE_STATES:
                return task_id
            self._app.send_task(
                celery_task_name(name), args=[payload.model_dump_json()], task_id=task_id, queue=self._queue
            )
        except Exception as exc:  # kombu / redis / amqp connection errors alike: the broker is not there
            raise TaskQueueUnavailableError(f"task broker unavailable ({type(exc).__name__})") from exc
        return task_id

    def state(self, task_id: str) -> str:
        return str(AsyncResult(task_id, app=self._app).state)

    def queue_depth(self) -> int:
        try:
            with self._app.connection_for_write() as conn:
                declared = conn.default_channel.queue_declare(queue=self._queue, passive=True)
                return int(declared.message_count)
        except Exception:  # queue not declared yet, or broker down: depth unknown → 0 for the gauge
            return 0

    def ping(self) -> None:
        with self._app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    def close(self) -> None:
        self._app.close()
