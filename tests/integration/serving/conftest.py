"""Private loopback services for the serving integration tests: each test starts its own moto_server
and mosquitto on free ports (never the system ones) and a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving_services import (
    HERE,
    VENV_BIN,
    CeleryEnv,
    Mosquitto,
    free_port,
    stop,
    wait_for_port,
)


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        wait_for_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(port=free_port(), workdir=tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def celery_worker(tmp_path: Path) -> Iterator[CeleryEnv]:
    """A real worker process (solo pool) on a dedicated Redis db and queue name."""
    queue = f"hazardeye-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **os.environ,
        "HAZARDEYE_TASKS__KIND": "celery",
        "HAZARDEYE_TASKS__BROKER_URL": "redis://127.0.0.1:6379/13",
        "HAZARDEYE_TASKS__RESULT_BACKEND": "redis://127.0.0.1:6379/14",
        "HAZARDEYE_TASKS__QUEUE": queue,
        "PYTHONPATH": str(HERE),
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "celery_test_app", "worker",
            "--pool=solo", "-Q", queue, "-n", f"{queue}@localhost",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield CeleryEnv(env=env, queue=queue, workdir=tmp_path)
    finally:
        stop(proc)
        log.close()
