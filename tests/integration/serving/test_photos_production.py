"""Flow 2 on the production profile: PostgreSQL + S3 (moto) + Celery with a real ``hazardeye worker``.

The API process accepts the upload (stores the original in S3, records the photo in PostgreSQL, queues
``photo.inspect``) and answers 202; the worker process runs the detector and files the hazards; polling
the API returns the finished result.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from minio import Minio
from serving_services import VENV_BIN, stop

from serving.objects.s3 import S3ObjectStore
from serving.settings import CeleryTaskSettings, DatabaseSettings, S3ObjectStoreSettings, Settings
from tests.support.api import api_harness
from tests.support.postgres import temporary_database
from tests.support.worker import wait_ready, worker_env
from workflow.domain.roles import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHOTO = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database("hazardeye_photos") as url:
        yield url


@pytest.fixture
def production(pg_url: str, moto_endpoint: str, tmp_path: Path) -> Iterator[Settings]:
    bucket = f"hz-photos-{secrets.token_hex(4)}"
    client = Minio(moto_endpoint, access_key="test", secret_key="test", secure=False, region="us-east-1")
    S3ObjectStore(client, bucket).ensure_bucket()
    queue = f"hazardeye-photos-{os.getpid()}-{time.monotonic_ns()}"
    yield Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=pg_url),
        objects=S3ObjectStoreSettings(
            kind="s3", endpoint=moto_endpoint, access_key="test", secret_key="test",
            bucket=bucket, region="us-east-1",
        ),
        tasks=CeleryTaskSettings(
            kind="celery", broker_url="redis://127.0.0.1:6379/13",
            result_backend="redis://127.0.0.1:6379/14", queue=queue,
        ),
    )  # fmt: skip


def test_upload_is_queued_and_the_worker_files_the_hazards(production: Settings, tmp_path: Path) -> None:
    with api_harness(production) as h:  # migrates the fresh PostgreSQL database
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [str(VENV_BIN / "hazardeye"), "worker", "--concurrency", "1", "--loglevel", "INFO"],
            env=worker_env(production), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_ready(worker, tmp_path / "worker.log")
            data = PHOTO.read_bytes()
            response = h.client.post(
                "/api/v1/photos",
                files={"file": ("round.jpg", data, "image/jpeg")},
                data={"zone": "tank-farm", "equipment_id": "P-101"},
                headers=h.auth(Role.INSPECTOR) | {"Idempotency-Key": "prod-upload-1"},
            )
            assert response.status_code == 202, response.text
            queued = response.json()
            assert queued["status"] == "queued"
            assert response.headers["location"] == queued["status_url"]

            result = _poll(h.client, queued["status_url"], h.auth(Role.INSPECTOR), tmp_path / "worker.log")
            assert result["status"] == "done", result
            assert result["photo_id"] == queued["photo_id"] == result["original_key"]
            assert {f["kind"] for f in result["findings"]} == {"ppe.no_helmet"}
            assert [x["outcome"] for x in result["hazards"]] == ["created"]

            # The worker filed the hazard in PostgreSQL with both S3 objects as evidence.
            hazard_id = result["hazards"][0]["hazard_id"]
            detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.auth(Role.INSPECTOR)).json()
            keys = detail["evidence"][0]["object_keys"]
            assert keys == [result["original_key"], result["annotated_key"]]
            for key in keys:
                stored = h.client.get(f"/api/v1/objects/{key}", headers=h.auth(Role.INSPECTOR))
                assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"

            # A retried upload (same key, same bytes) answers with the recorded result, not a new task.
            replay = h.client.post(
                "/api/v1/photos",
                files={"file": ("round.jpg", data, "image/jpeg")},
                data={"zone": "tank-farm"},
                headers=h.auth(Role.INSPECTOR) | {"Idempotency-Key": "prod-upload-1"},
            )
            assert replay.status_code == 200 and replay.json() == result
        finally:
            stop(worker)
            log.close()


def _poll(client: TestClient, url: str, headers: dict[str, str], log: Path, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).json()
        if body["status"] != "queued":
            return body
        time.sleep(0.25)
    raise AssertionError(f"photo still queued after {timeout}s; worker log:\n{log.read_text()[-3000:]}")
