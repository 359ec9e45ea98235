"""Faults under load (issue 12): the Celery broker (a private Redis, no persistence: its queue is lost)
is stopped and started while inspectors upload on the production profile; every acknowledged photo must
still end analysed, once, by the worker.

A task that vanished with the broker leaves its photo queued; the service's sweep dispatches photos
queued for longer than ``photos.stuck_after_s`` again (15 s here, 600 s by default); an upload
that finds the broker down is stored, answered 202 and marked failed until the sweep queues it again.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from minio import Minio

from serving.objects.s3 import S3ObjectStore
from serving.settings import CeleryTaskSettings, DatabaseSettings, PhotoSettings, S3ObjectStoreSettings
from tests.faults.conftest import free_port, wait_listening
from tests.faults.upload_load import Tally, judge, settle, start_clients
from tests.support.api import api_harness, embedded_settings
from tests.support.postgres import temporary_database
from tests.support.worker import running_worker
from workflow.domain.roles import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir = free_port(), workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def test_no_acknowledged_upload_is_lost_when_the_broker_restarts_empty(
    tmp_path: Path, moto_port: int
) -> None:
    bucket = f"hz-broker-{secrets.token_hex(4)}"
    endpoint = f"127.0.0.1:{moto_port}"
    S3ObjectStore(Minio(endpoint, "test", "test", secure=False, region="us-east-1"), bucket).ensure_bucket()
    with temporary_database("hazardeye_faults") as url, private_redis(tmp_path) as redis:
        broker = f"redis://127.0.0.1:{redis.port}"
        settings = embedded_settings(
            tmp_path,
            database=DatabaseSettings(url=url),
            objects=S3ObjectStoreSettings(kind="s3", endpoint=endpoint, access_key="test", secret_key="test",
                                          bucket=bucket, region="us-east-1"),
            tasks=CeleryTaskSettings(kind="celery", broker_url=f"{broker}/0", result_backend=f"{broker}/1",
                                     queue=f"hz-faults-{os.getpid()}-{secrets.token_hex(3)}"),
            photos=PhotoSettings(retry_after_s=0.0, stuck_after_s=15.0),
        )  # fmt: skip
        with api_harness(settings) as h, running_worker(settings, tmp_path) as worker_log:
            tally, stop = Tally(), threading.Event()
            clients = start_clients(h, 2, tally, stop)
            try:
                time.sleep(4)
                redis.stop()
                time.sleep(4)
                redis.start()
                time.sleep(6)
            finally:
                stop.set()
                for thread in clients:
                    thread.join(120)
            acknowledged = tuple(tally.acknowledged.values())
            try:
                swept = settle(h, until_done=acknowledged, timeout_s=240.0)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; worker log:\n{worker_log.read_text()[-3000:]}") from None
            lost, duplicated = judge(h, tally)
            print(f"\nfaults (Redis restart under Celery): {tally.summary(lost, duplicated, swept)}")
            assert tally.server_errors == [] and tally.connection_errors == 0  # in-process: a 500 raises
            assert lost == [] and duplicated == [], (lost[:5], duplicated[:5])
            assert len(tally.acknowledged) >= 6
            assert h.client.get("/api/v1/audit/verify", headers=h.auth(Role.ADMIN)).json()["ok"]
            assert h.client.get("/health").status_code == 200
