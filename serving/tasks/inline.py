"""In-process runner: a thread pool with the same retry/backoff policy as the Celery adapter."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from pydantic import BaseModel

from serving.tasks.port import TaskRegistry, TaskSpec, backoff_delay

log = logging.getLogger(__name__)


class InlineTaskRunner:
    def __init__(self, registry: TaskRegistry, *, workers: int = 2, remember: int = 10_000) -> None:
        self._registry = registry
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hazardeye-task")
        self._lock = threading.Lock()
        # Recently seen keys (for idempotent submits); bounded so a long-running server does not grow.
        self._known: OrderedDict[str, Future[None]] = OrderedDict()
        self._remember = remember
        self._pending = 0
        self._closed = threading.Event()

    def submit(self, name: str, payload: BaseModel, *, key: str | None = None) -> str:
        spec = self._registry.get(name)
        raw = payload.model_dump_json()  # same wire form as Celery: handlers never share objects
        task_id = key or uuid.uuid4().hex
        with self._lock:
            if task_id in self._known:
                return task_id
            self._pending += 1
            self._known[task_id] = self._pool.submit(self._run, spec, raw, task_id)
            self._forget_oldest_finished()
        return task_id

    def _forget_oldest_finished(self) -> None:
        while len(self._known) > self._remember:
            oldest_key, oldest = next(iter(self._known.items()))
            if not oldest.done():
                return  # never forget work in flight
            del self._known[oldest_key]

    def wait(self, task_id: str, timeout: float | None = None) -> None:
        """Block until a task finished (re-raises its final error); for tests and synchronous flows."""
        with self._lock:
            future = self._known[task_id]
        future.result(timeout=timeout)

    def _run(self, spec: TaskSpec[BaseModel], raw: str, task_id: str) -> None:
        try:
            attempt = 0
            while True:
                try:
                    spec.run_json(raw)
                    return
                except Exception:
                    if attempt >= spec.max_retries or self._closed.is_set():
                        log.exception(
                            "task %s (%s) failed after %d attempts", spec.name, task_id, attempt + 1
                        )
                        raise
                    delay = backoff_delay(spec, attempt)
                    log.warning("task %s (%s) failed; retry in %.2fs", spec.name, task_id, delay)
                    attempt += 1
                    if self._closed.wait(delay):
                        raise
        finally:
            with self._lock:
                self._pending -= 1

    def queue_depth(self) -> int:
        with self._lock:
            return self._pending

    def ping(self) -> None:
        if self._closed.is_set():
            raise RuntimeError("task runner is closed")

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
