from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from serving.tasks import InlineTaskRunner, TaskRegistry, TaskSpec, UnknownTaskError, backoff_delay


class Echo(BaseModel):
    text: str


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail_times = fail_times
        self.lock = threading.Lock()

    def __call__(self, payload: Echo) -> None:
        with self.lock:
            self.calls.append((payload.text, time.monotonic()))
            if len(self.calls) <= self.fail_times:
                raise RuntimeError(f"transient failure {len(self.calls)}")


@pytest.fixture
def registry() -> TaskRegistry:
    return TaskRegistry()


@pytest.fixture
def runner(registry: TaskRegistry) -> Iterator[InlineTaskRunner]:
    runner = InlineTaskRunner(registry, workers=2)
    yield runner
    runner.close()


def test_handler_receives_typed_payload(registry: TaskRegistry, runner: InlineTaskRunner) -> None:
    rec = Recorder()
    registry.register(TaskSpec("echo", Echo, rec))
    task_id = runner.submit("echo", Echo(text="hi"))
    runner.wait(task_id, timeout=5)
    assert [c[0] for c in rec.calls] == ["hi"]
    assert runner.queue_depth() == 0


def test_retries_with_exponential_backoff(registry: TaskRegistry, runner: InlineTaskRunner) -> None:
    rec = Recorder(fail_times=2)
    registry.register(TaskSpec("flaky", Echo, rec, max_retries=3, backoff_s=0.05))
    runner.wait(runner.submit("flaky", Echo(text="x")), timeout=5)
    assert len(rec.calls) == 3
    gaps = [b[1] - a[1] for a, b in zip(rec.calls, rec.calls[1:], strict=False)]
    assert gaps[0] >= 0.05 * 0.9
    assert gaps[1] >= 0.10 * 0.9  # doubled


def test_gives_up_after_max_retries(registry: TaskRegistry, runner: InlineTaskRunner) -> None:
    rec = Recorder(fail_times=100)
    registry.register(TaskSpec("broken", Echo, rec, max_retries=2, backoff_s=0.01))
    task_id = runner.submit("broken", Echo(text="x"))
    with pytest.raises(RuntimeError, match="transient failure 3"):
        runner.wait(task_id, timeout=5)
    assert len(rec.calls) == 3


def test_same_key_runs_once(registry: TaskRegistry, runner: InlineTaskRunner) -> None:
    rec = Recorder()
    registry.register(TaskSpec("echo", Echo, rec))
    first = runner.submit("echo", Echo(text="a"), key="photo-1")
    second = runner.submit("echo", Echo(text="a"), key="photo-1")
    assert first == second == "photo-1"
    runner.wait(first, timeout=5)
    again = runner.submit("echo", Echo(text="a"), key="photo-1")
    runner.wait(again, timeout=5)  # a second run would be waited for here, not raced by a sleep
    assert len(rec.calls) == 1


def test_unknown_task_and_double_registration(registry: TaskRegistry, runner: InlineTaskRunner) -> None:
    with pytest.raises(UnknownTaskError):
        runner.submit("nope", Echo(text="x"))
    registry.register(TaskSpec("echo", Echo, Recorder()))
    with pytest.raises(ValueError, match="twice"):
        registry.register(TaskSpec("echo", Echo, Recorder()))


def test_backoff_is_capped() -> None:
    spec = TaskSpec("x", Echo, Recorder(), backoff_s=1.0, backoff_max_s=10.0)
    assert [backoff_delay(spec, n) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]  # type: ignore[arg-type]


def test_remembered_keys_are_bounded(registry: TaskRegistry) -> None:
    rec = Recorder()
    registry.register(TaskSpec("echo", Echo, rec))
    runner = InlineTaskRunner(registry, workers=1, remember=3)
    try:
        for n in range(6):
            runner.wait(runner.submit("echo", Echo(text=str(n)), key=f"k{n}"), timeout=5)
        runner.wait(runner.submit("echo", Echo(text="again"), key="k5"), timeout=5)  # still remembered
        assert len(rec.calls) == 6
        runner.wait(runner.submit("echo", Echo(text="0 again"), key="k0"), timeout=5)  # forgotten: runs
        assert len(rec.calls) == 7
    finally:
        runner.close()
