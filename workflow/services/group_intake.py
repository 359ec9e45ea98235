"""Group commit for observation intake: concurrent callers share one transaction.

Each camera frame yields one to three observations, and a transaction costs about ten round trips and a
commit whatever its size, so per-frame transactions cap PostgreSQL intake at a few hundred observations a
second. Here one flusher thread takes every request queued while the previous transaction was in flight
and ingests them together: no waiting when idle (a lone request goes straight through), batches that
grow with the load when busy. Decisions are exactly ``ingest_observations``' on the concatenated requests
in arrival order. If the shared transaction fails, each request is retried alone, so one bad frame (a
skewed clock, a constraint violation) fails only its own caller and nothing of the others is lost.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future

from workflow.domain.observations import IngestResult, Observation
from workflow.services.context import WorkflowContext
from workflow.services.hazards import ingest_observations

log = logging.getLogger(__name__)

_Request = tuple[tuple[Observation, ...], "Future[list[IngestResult]]"]


class IntakeClosedError(RuntimeError):
    """``GroupIntake.ingest`` after ``close``."""


class GroupIntake:
    def __init__(self, ctx: WorkflowContext, *, max_batch: int = 200) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._ctx = ctx
        self._max_batch = max_batch
        self._closed = False
        self.transactions = 0  # transactions committed (for metrics and tests)
        self._reset()

    def _reset(self) -> None:
        # Per process: a Celery prefork child inherits this object but not the parent's flusher thread.
        self._pid = os.getpid()
        self._pending: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> int:
        """Requests waiting for the next shared transaction."""
        with self._cond:
            return len(self._pending)

    def ingest(self, observations: Sequence[Observation]) -> list[IngestResult]:
        """Same contract as ``ingest_observations`` (all of ``observations`` or none), blocking."""
        batch = tuple(observations)
        if not batch:
            return []
        future: Future[list[IngestResult]] = Future()
        if self._pid != os.getpid():
            self._reset()
        with self._cond:
            if self._closed:
                raise IntakeClosedError("observation intake is closed")
            self._pending.append((batch, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-intake", daemon=True)
                self._thread.start()
            self._cond.notify()
        return future.result()

    def close(self) -> None:
        """Finish what is queued, then stop the flusher."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                group = self._take()
            self._flush(group)

    def _take(self) -> list[_Request]:
        """Queued requests up to ``max_batch`` observations (always at least one request)."""
        group = [self._pending.popleft()]
        size = len(group[0][0])
        while self._pending and size + len(self._pending[0][0]) <= self._max_batch:
            request = self._pending.popleft()
            group.append(request)
            size += len(request[0])
        return group

    def _flush(self, group: list[_Request]) -> None:
        if len(group) > 1:
            try:
                results = ingest_observations(self._ctx, [obs for batch, _ in group for obs in batch])
            except Exception as exc:  # isolate the failing request below
                log.warning("shared intake of %d requests failed (%s); retrying each alone", len(group), exc)
            else:
                self.transactions += 1
                offset = 0
                for batch, future in group:
                    future.set_result(results[offset : offset + len(batch)])
                    offset += len(batch)
                return
        for batch, future in group:
            try:
                future.set_result(ingest_observations(self._ctx, batch))
                self.transactions += 1
            except BaseException as exc:  # delivered to the caller, who raises it
                future.set_exception(exc)
