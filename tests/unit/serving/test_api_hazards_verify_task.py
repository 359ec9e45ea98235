"""The queued verification path (what Celery runs): rectify without a verdict, then the ``hazard.verify``
task appends it — once, however often it is delivered — and the close rule sees it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.pipelines.verification import TASK_NAME, VerifyTask, run_verification_task
from serving.tasks.inline import InlineTaskRunner
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import fixture, jpeg, make_hazard, rectified
from workflow.domain.roles import Role
from workflow.services.hazards import rectify
from workflow.services.users import authenticate


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def queued_rectification(api: ApiHarness, after: bytes) -> tuple[int, VerifyTask]:
    """A hazard rectified the way the API does it on Celery: photos stored, no verdict yet."""
    hazard_id = make_hazard(api.container)
    for action, role, body in (
        ("register", Role.INSPECTOR, None),
        ("dispatch", Role.SAFETY_ENGINEER, {"assignee": "张"}),
        ("start", Role.RECTIFIER, None),
    ):
        response = api.client.post(f"/api/v1/hazards/{hazard_id}/{action}", json=body, headers=api.auth(role))
        assert response.status_code == 200, response.text
    actor = authenticate(api.container.workflow, api.keys[Role.RECTIFIER])
    assert actor is not None
    key = api.container.objects.put(after, content_type="image/jpeg").key
    view = rectify(api.container.workflow, hazard_id, actor, [key], None)
    return hazard_id, VerifyTask(
        hazard_id=hazard_id, after_seq=view.evidence_count, after_keys=[key], by=actor.name
    )


def verifications(api: ApiHarness, hazard_id: int) -> list[dict[str, object]]:
    detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(Role.ADMIN)).json()
    return [e for e in detail["evidence"] if e["kind"] == "verification"]


def test_registered_task_appends_the_verification_once(api: ApiHarness) -> None:
    image, box = fixture("hardhat_b")
    hazard_id, task = queued_rectification(api, jpeg(rectified(image, box)))
    assert verifications(api, hazard_id) == []
    runner = api.container.tasks
    assert isinstance(runner, InlineTaskRunner)
    runner.wait(runner.submit(TASK_NAME, task), timeout=120)
    run_verification_task(api.container, task)  # a redelivery appends nothing
    found = verifications(api, hazard_id)
    assert len(found) == 1
    payload = found[0]["payload"]
    assert (
        isinstance(payload, dict)
        and payload["verdict"] == "resolved"
        and payload["after_seq"] == task.after_seq
    )
    keys = found[0]["object_keys"]
    assert isinstance(keys, list) and len(keys) == 1 and api.container.objects.exists(keys[0])


def test_late_failed_verification_still_blocks_closing(api: ApiHarness) -> None:
    other, _ = fixture("corrosion_a")
    hazard_id, task = queued_rectification(api, jpeg(other))
    run_verification_task(api.container, task)
    payload = verifications(api, hazard_id)[0]["payload"]
    assert isinstance(payload, dict) and payload["verdict"] == "different_scene"
    review = api.client.post(
        f"/api/v1/hazards/{hazard_id}/review", json={"approve": True}, headers=api.auth(Role.REVIEWER)
    )
    assert review.status_code == 200
    close = api.client.post(f"/api/v1/hazards/{hazard_id}/close", json={}, headers=api.auth(Role.REVIEWER))
    assert close.status_code == 409
