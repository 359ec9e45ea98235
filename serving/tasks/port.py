"""What a task is (name, typed payload, handler, retry policy) and what a runner must offer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

P = TypeVar("P", bound=BaseModel)


class TaskQueueUnavailableError(RuntimeError):
    """The task broker cannot take the task now (down, restarting): the caller keeps its own record of
    the work and dispatches it again later."""


class UnknownTaskError(KeyError):
    """No handler is registered under this task name."""


@dataclass(frozen=True, slots=True)
class TaskSpec(Generic[P]):
    """One unit of background work. Handlers must be idempotent: a retry or a redelivery may run them
    again with the same payload (e.g. key writes by content hash, upsert by idempotency key)."""

    name: str
    payload_type: type[P]
    handler: Callable[[P], None]
    max_retries: int = 3
    backoff_s: float = 1.0
    backoff_max_s: float = 300.0

    def run_json(self, raw: str) -> None:
        self.handler(self.payload_type.model_validate_json(raw))


def backoff_delay(spec: TaskSpec[BaseModel], attempt: int) -> float:
    """Exponential backoff: ``backoff_s * 2**attempt`` seconds, capped (attempt 0 = first retry)."""
    return float(min(spec.backoff_s * (2**attempt), spec.backoff_max_s))


class TaskRegistry:
    """Name → spec; built once in bootstrap and shared by the API process and the workers."""

    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec[BaseModel]] = {}

    def register(self, spec: TaskSpec[P]) -> TaskSpec[P]:
        if spec.name in self._specs:
            raise ValueError(f"task {spec.name!r} registered twice")
        self._specs[spec.name] = spec  # type: ignore[assignment]
        return spec

    def get(self, name: str) -> TaskSpec[BaseModel]:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownTaskError(name) from None

    def __iter__(self) -> Iterator[TaskSpec[BaseModel]]:
        return iter(self._specs.values())


class TaskRunner(Protocol):
    def submit(self, name: str, payload: BaseModel, *, key: str | None = None) -> str:
        """Queue a task; returns its id. A ``key`` already submitted is not run again (idempotent)."""
        ...

    def queue_depth(self) -> int:
        """Tasks waiting or running (for /metrics)."""
        ...

    def ping(self) -> None:
        """Raise when the runner cannot accept work (readiness probe)."""
        ...

    def close(self) -> None: ...
