from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serving_services import HERE, CeleryEnv

from serving.tasks.celery_runner import CeleryTaskRunner, build_celery_app
from serving.tasks.port import TaskRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def runner(celery_worker: CeleryEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[CeleryTaskRunner]:
    # The producer side builds its app exactly as bootstrap does, from the same environment.
    import sys

    monkeypatch.syspath_prepend(str(HERE))
    for key in (
        "HAZARDEYE_TASKS__KIND",
        "HAZARDEYE_TASKS__BROKER_URL",
        "HAZARDEYE_TASKS__RESULT_BACKEND",
        "HAZARDEYE_TASKS__QUEUE",
    ):
        monkeypatch.setenv(key, celery_worker.env[key])
    sys.modules.pop("celery_test_app", None)
    import celery_test_app

    from serving.settings import CeleryTaskSettings, load_settings

    settings = load_settings().tasks
    assert isinstance(settings, CeleryTaskSettings)
    registry: TaskRegistry = celery_test_app.registry()
    runner = CeleryTaskRunner(build_celery_app(settings, registry), registry, queue=settings.queue)
    yield runner
    runner.close()


def test_worker_process_runs_the_same_handlers(runner: CeleryTaskRunner, tmp_path: Path) -> None:
    import celery_test_app

    out = tmp_path / "out.txt"
    task_id = runner.submit("record", celery_test_app.Line(path=str(out), text="hello"))
    _wait(lambda: runner.state(task_id) == "SUCCESS")
    assert out.read_text() == "hello\n"
    runner.ping()


def test_failing_handler_is_retried_with_backoff(runner: CeleryTaskRunner, tmp_path: Path) -> None:
    import celery_test_app

    log = tmp_path / "attempts.txt"
    task_id = runner.submit("flaky", celery_test_app.Flaky(path=str(log), failures=2))
    _wait(lambda: runner.state(task_id) == "SUCCESS", timeout=40)
    stamps = [float(line) for line in log.read_text().splitlines()]
    assert len(stamps) == 3
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps[0] >= 0.25  # backoff_s = 0.3
    assert gaps[1] >= 0.5  # doubled


def test_exhausted_retries_end_in_failure(runner: CeleryTaskRunner, tmp_path: Path) -> None:
    import celery_test_app

    log = tmp_path / "attempts.txt"
    task_id = runner.submit("flaky", celery_test_app.Flaky(path=str(log), failures=100))
    _wait(lambda: runner.state(task_id) == "FAILURE", timeout=60)
    assert len(log.read_text().splitlines()) == 4  # first try + max_retries=3


def test_resubmitting_a_completed_key_does_not_run_again(runner: CeleryTaskRunner, tmp_path: Path) -> None:
    import celery_test_app

    out = tmp_path / "out.txt"
    key = f"photo-{os.getpid()}-{time.monotonic_ns()}"
    payload = celery_test_app.Line(path=str(out), text="once")
    task_id = runner.submit("record", payload, key=key)
    assert task_id.endswith(key)
    _wait(lambda: runner.state(task_id) == "SUCCESS")
    assert runner.submit("record", payload, key=key) == task_id
    marker = runner.submit("record", celery_test_app.Line(path=str(out), text="marker"))
    _wait(lambda: runner.state(marker) == "SUCCESS")  # solo pool: FIFO, so a duplicate would be done
    assert out.read_text().splitlines() == ["once", "marker"]


def test_hazardeye_worker_consumes_the_configured_queue(tmp_path: Path) -> None:
    """`hazardeye worker` as a real process: it connects to the broker and listens on settings' queue."""
    import subprocess
    import sys

    from serving.settings import CeleryTaskSettings

    queue = f"hazardeye-cli-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HAZARDEYE_")},
        "HAZARDEYE_TASKS__KIND": "celery",
        "HAZARDEYE_TASKS__BROKER_URL": "redis://127.0.0.1:6379/13",
        "HAZARDEYE_TASKS__RESULT_BACKEND": "redis://127.0.0.1:6379/14",
        "HAZARDEYE_TASKS__QUEUE": queue,
        "HAZARDEYE_DATABASE__URL": f"sqlite:///{tmp_path / 'hazardeye.db'}",
        "HAZARDEYE_OBJECTS__KIND": "local",
        "HAZARDEYE_OBJECTS__ROOT": str(tmp_path / "objects"),
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "hazardeye"), "worker"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    settings = CeleryTaskSettings(
        kind="celery", broker_url=env["HAZARDEYE_TASKS__BROKER_URL"], result_backend=None, queue=queue
    )
    control = build_celery_app(settings, TaskRegistry())
    try:

        def listening() -> bool:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            replies = control.control.inspect(timeout=1.0).active_queues() or {}
            return any(q["name"] == queue for queues in replies.values() for q in queues)

        _wait(listening, timeout=60)
    finally:
        control.close()
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
