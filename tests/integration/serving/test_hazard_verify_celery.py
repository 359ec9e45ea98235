"""Rectification on the production task path: the API rectifies and queues ``hazard.verify``; a real
``hazardeye worker`` process (same SQLite file and object folder) appends the verification evidence."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from serving_services import VENV_BIN, stop

from serving.settings import CeleryTaskSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import fixture, jpeg, make_hazard, rectified
from workflow.domain.roles import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _verifications(api: ApiHarness, hazard_id: int) -> list[dict[str, object]]:
    detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(Role.ADMIN)).json()
    return [e for e in detail["evidence"] if e["kind"] == "verification"]


def test_worker_appends_the_verification_after_a_queued_rectification(tmp_path: Path) -> None:
    queue = f"hazardeye-verify-{os.getpid()}-{time.monotonic_ns()}"
    tasks = CeleryTaskSettings(
        kind="celery",
        broker_url="redis://127.0.0.1:6379/13",
        result_backend="redis://127.0.0.1:6379/14",
        queue=queue,
    )
    settings = embedded_settings(tmp_path, tasks=tasks)
    env = {
        **os.environ,
        "HAZARDEYE_DATA_DIR": str(tmp_path),
        "HAZARDEYE_DATABASE__URL": settings.database.url,
        "HAZARDEYE_OBJECTS__KIND": "local",
        "HAZARDEYE_OBJECTS__ROOT": str(tmp_path / "objects"),
        "HAZARDEYE_TASKS__KIND": "celery",
        "HAZARDEYE_TASKS__BROKER_URL": tasks.broker_url,
        "HAZARDEYE_TASKS__RESULT_BACKEND": tasks.result_backend or "",
        "HAZARDEYE_TASKS__QUEUE": queue,
    }
    with api_harness(settings) as api:  # migrates the database before the worker opens it
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [str(VENV_BIN / "hazardeye"), "worker", "--concurrency", "1"],
            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            hazard_id = make_hazard(api.container)
            for action, role, body in (
                ("register", Role.INSPECTOR, None),
                ("dispatch", Role.SAFETY_ENGINEER, {"assignee": "张"}),
                ("start", Role.RECTIFIER, None),
            ):
                response = api.client.post(
                    f"/api/v1/hazards/{hazard_id}/{action}", json=body, headers=api.auth(role)
                )
                assert response.status_code == 200, response.text
            image, box = fixture("hardhat_b")
            files = [("file", ("after.jpg", jpeg(rectified(image, box)), "image/jpeg"))]
            response = api.client.post(
                f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(Role.RECTIFIER)
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["verification"] is None and body["verification_queued"] is True
            assert body["hazard"]["state"] == "rectified"

            deadline = time.monotonic() + 120
            while not (found := _verifications(api, hazard_id)) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert found, (tmp_path / "worker.log").read_text()[-3000:]
            payload = found[0]["payload"]
            assert isinstance(payload, dict) and payload["verdict"] == "resolved"
            keys = found[0]["object_keys"]
            assert isinstance(keys, list) and api.container.objects.exists(keys[0])
        finally:
            stop(worker)
            log.close()
