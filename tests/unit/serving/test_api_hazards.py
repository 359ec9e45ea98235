"""Hazards over HTTP on the embedded profile: a hazard walked from discovered to closed with a real
before/after verification, and the refusals (roles, reviewer = rectifier, illegal steps, stale versions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from serving.objects import content_key
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import fixture, jpeg, make_hazard, rectified, warp
from workflow.domain.roles import Role

R = Role


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def step(api: ApiHarness, hazard_id: int, action: str, role: Role, body: object = None) -> dict[str, object]:
    response = api.client.post(f"/api/v1/hazards/{hazard_id}/{action}", json=body, headers=api.auth(role))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def to_rectification(api: ApiHarness, hazard_id: int) -> None:
    step(api, hazard_id, "register", R.INSPECTOR)
    step(api, hazard_id, "dispatch", R.SAFETY_ENGINEER, {"assignee": "王师傅"})
    step(api, hazard_id, "start", R.RECTIFIER)


def rectify(api: ApiHarness, hazard_id: int, *photos: bytes, role: Role = R.RECTIFIER) -> dict[str, object]:
    files = [("file", (f"after{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    response = api.client.post(f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(role))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_hazard_walks_from_discovered_to_closed_with_a_resolved_verification(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    listed = api.client.get("/api/v1/hazards", headers=api.auth(R.INSPECTOR)).json()
    assert [h["id"] for h in listed["items"]] == [hazard_id] and listed["total"] == 1
    assert listed["items"][0]["state"] == "discovered" and listed["items"][0]["title"] == "作业人员未戴安全帽"

    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    result = rectify(api, hazard_id, jpeg(rectified(image, box)))
    verification = result["verification"]
    assert isinstance(verification, dict) and result["verification_queued"] is False
    assert verification["verdict"] == "resolved", verification["reasons"]
    assert verification["match_score"] >= 0.85 and verification["inliers"] >= 30
    side_key = verification["side_by_side_key"]
    assert isinstance(side_key, str)
    side = cv2.imdecode(np.frombuffer(api.container.objects.get(side_key), np.uint8), cv2.IMREAD_COLOR)
    assert side is not None and side.shape[1] > side.shape[0]  # before | after, side by side

    detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.REVIEWER)).json()
    assert detail["hazard"]["state"] == "rectified" and detail["hazard"]["assignee"] == "王师傅"
    kinds = [e["kind"] for e in detail["evidence"]]
    assert kinds == ["before_photo", "after_photo", "verification"]
    assert detail["evidence"][2]["payload"]["verdict"] == "resolved"
    assert detail["evidence"][2]["object_keys"] == [side_key]  # the same evidence as the Celery path
    after_key = detail["evidence"][1]["object_keys"][0]
    assert api.container.objects.exists(after_key)

    step(api, hazard_id, "review", R.REVIEWER, {"approve": True})
    closed = step(api, hazard_id, "close", R.REVIEWER, {})
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    events = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.ADMIN)).json()["events"]
    assert [e["action"] for e in events] == [
        "discover", "register", "dispatch", "start", "rectify", "approve", "close"
    ]  # fmt: skip
    assert [e["by"] for e in events][1:] == [
        "inspector-user", "safety_engineer-user", "rectifier-user", "rectifier-user", "reviewer-user",
        "reviewer-user",
    ]  # fmt: skip


def test_unrelated_after_photo_blocks_closing_without_a_reviewer_override(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    other, _ = fixture("corrosion_b")
    verification = rectify(api, hazard_id, jpeg(other))["verification"]
    assert isinstance(verification, dict)
    assert verification["verdict"] == "different_scene"  # a corrosion photo as the after photo of a helmet
    step(api, hazard_id, "review", R.REVIEWER, {"approve": True})

    refused = api.client.post(f"/api/v1/hazards/{hazard_id}/close", json={}, headers=api.auth(R.REVIEWER))
    assert refused.status_code == 409 and refused.json()["detail"]["error"] == "evidence_rule"
    by_engineer = api.client.post(
        f"/api/v1/hazards/{hazard_id}/close",
        json={"override_reason": "checked on site"},
        headers=api.auth(R.SAFETY_ENGINEER),
    )
    assert by_engineer.status_code == 403  # only a reviewer may override a failed verification
    closed = step(api, hazard_id, "close", R.REVIEWER, {"override_reason": "现场复核确认已整改"})
    assert closed["state"] == "closed"
    evidence = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.ADMIN)).json()["evidence"]
    override = [e for e in evidence if e["kind"] == "override"]
    assert override and override[0]["payload"]["override_reason"] == "现场复核确认已整改"


def test_several_after_photos_the_best_registered_one_decides(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    other, _ = fixture("corrosion_a")
    result = rectify(api, hazard_id, jpeg(other), jpeg(rectified(image, box, angle=-8.0, scale=0.9)))
    assert isinstance(result["verification"], dict) and result["verification"]["verdict"] == "resolved"
    evidence = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.ADMIN)).json()["evidence"]
    assert len(evidence[1]["object_keys"]) == 2


def test_hazard_still_there_is_not_resolved(api: ApiHarness) -> None:
    image, box = fixture("hardhat_b")
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    darker = np.asarray(cv2.convertScaleAbs(warp(image, box, -10.0, 0.95), alpha=0.8), np.uint8)
    verification = rectify(api, hazard_id, jpeg(darker))["verification"]
    assert isinstance(verification, dict) and verification["verdict"] == "not_resolved", verification
    assert verification["hazard_score"] is not None and verification["hazard_score"] >= 0.5


@pytest.mark.parametrize("with_photo", [False, True])
def test_nothing_to_compare_with_needs_reinspection(api: ApiHarness, with_photo: bool) -> None:
    hazard_id = make_hazard(api.container, with_photo=with_photo, with_box=False)
    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    verification = rectify(api, hazard_id, jpeg(rectified(image, box)))["verification"]
    assert isinstance(verification, dict)
    assert verification["verdict"] == "needs_reinspection" and verification["side_by_side_key"] is None


def test_reviewer_must_not_be_the_rectifier(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    rectify(api, hazard_id, jpeg(rectified(image, box)), role=R.ADMIN)
    response = api.client.post(
        f"/api/v1/hazards/{hazard_id}/review", json={"approve": True}, headers=api.auth(R.ADMIN)
    )
    assert response.status_code == 403 and response.json()["detail"]["error"] == "forbidden"
    assert "rectified" in response.json()["detail"]["message"]
    step(api, hazard_id, "review", R.REVIEWER, {"approve": True})


@pytest.mark.parametrize(
    ("action", "role", "body"),
    [
        ("register", R.RECTIFIER, None),
        ("dispatch", R.INSPECTOR, {"assignee": "x"}),
        ("review", R.INSPECTOR, {"approve": True}),
        ("close", R.RECTIFIER, {}),
        ("reopen", R.REVIEWER, {"reason": "again"}),
    ],
)
def test_wrong_role_is_forbidden(api: ApiHarness, action: str, role: Role, body: object) -> None:
    hazard_id = make_hazard(api.container)
    response = api.client.post(f"/api/v1/hazards/{hazard_id}/{action}", json=body, headers=api.auth(role))
    assert response.status_code == 403


def test_rectify_by_an_inspector_is_forbidden_and_stores_nothing(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    data = jpeg(rectified(image, box))
    files = [("file", ("a.jpg", data, "image/jpeg"))]
    response = api.client.post(
        f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(R.INSPECTOR)
    )
    assert response.status_code == 403
    assert not api.container.objects.exists(content_key(data))


def test_unknown_hazard_is_404(api: ApiHarness) -> None:
    assert api.client.get("/api/v1/hazards/999", headers=api.auth(R.INSPECTOR)).status_code == 404
    response = api.client.post("/api/v1/hazards/999/register", headers=api.auth(R.INSPECTOR))
    assert response.status_code == 404 and response.json()["detail"]["error"] == "not_found"
    image, _ = fixture("hardhat_b")
    files = [("file", ("a.jpg", jpeg(image), "image/jpeg"))]
    assert (
        api.client.post("/api/v1/hazards/999/rectify", files=files, headers=api.auth(R.RECTIFIER)).status_code
        == 404
    )


def test_illegal_transitions_are_409(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    response = api.client.post(f"/api/v1/hazards/{hazard_id}/start", headers=api.auth(R.RECTIFIER))
    assert response.status_code == 409 and response.json()["detail"]["error"] == "illegal_transition"
    image, _ = fixture("hardhat_b")
    files = [("file", ("a.jpg", jpeg(image), "image/jpeg"))]
    rectify_early = api.client.post(
        f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(R.RECTIFIER)
    )
    assert rectify_early.status_code == 409
    review_early = api.client.post(
        f"/api/v1/hazards/{hazard_id}/review", json={"approve": True}, headers=api.auth(R.REVIEWER)
    )
    assert review_early.status_code == 409


def test_stale_version_is_409(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    seen = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.INSPECTOR)).json()["hazard"]
    registered = step(api, hazard_id, "register", R.INSPECTOR, {"version": seen["version"]})
    assert registered["version"] > seen["version"]
    stale = api.client.post(
        f"/api/v1/hazards/{hazard_id}/dispatch",
        json={"assignee": "李", "version": seen["version"]},
        headers=api.auth(R.SAFETY_ENGINEER),
    )
    assert stale.status_code == 409 and stale.json()["detail"]["error"] == "conflict"
    step(api, hazard_id, "dispatch", R.SAFETY_ENGINEER, {"assignee": "李", "version": registered["version"]})


def test_rejected_rectification_goes_back_and_reopen_needs_a_reason(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    image, box = fixture("hardhat_b")
    rectify(api, hazard_id, jpeg(rectified(image, box)))
    no_reason = api.client.post(
        f"/api/v1/hazards/{hazard_id}/review", json={"approve": False}, headers=api.auth(R.REVIEWER)
    )
    assert no_reason.status_code == 422
    back = step(api, hazard_id, "review", R.REVIEWER, {"approve": False, "reason": "安全帽未到位"})
    assert back["state"] == "in_rectification"
    rectify(api, hazard_id, jpeg(rectified(image, box, angle=5.0)))
    step(api, hazard_id, "review", R.REVIEWER, {"approve": True})
    step(api, hazard_id, "close", R.SAFETY_ENGINEER, {})
    empty = api.client.post(
        f"/api/v1/hazards/{hazard_id}/reopen", json={"reason": ""}, headers=api.auth(R.INSPECTOR)
    )
    assert empty.status_code == 422
    assert step(api, hazard_id, "reopen", R.INSPECTOR, {"reason": "复发"})["state"] == "registered"


def test_notes_any_role_and_bad_photos(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    response = api.client.post(
        f"/api/v1/hazards/{hazard_id}/notes", json={"text": "已通知班组长"}, headers=api.auth(R.RECTIFIER)
    )
    assert response.status_code == 201 and response.json() == {"seq": 2}
    unknown = api.client.post(
        f"/api/v1/hazards/{hazard_id}/notes",
        json={"text": "x", "object_keys": ["0" * 64]},
        headers=api.auth(R.RECTIFIER),
    )
    assert unknown.status_code == 422
    to_rectification(api, hazard_id)
    files = [("file", ("a.jpg", b"not an image", "image/jpeg"))]
    bad = api.client.post(f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(R.RECTIFIER))
    assert bad.status_code == 422 and bad.json()["detail"]["error"] == "photo_rejected"
    assert api.client.get("/api/v1/hazards", headers={}).status_code == 401


def test_every_detection_of_a_merged_hazard_is_verified(api: ApiHarness) -> None:
    """Two photos of one equipment are one hazard with two detections: fixing one is not fixing both."""
    first = make_hazard(api.container, name="hardhat_b", equipment_id="P-7")
    second = make_hazard(api.container, name="hardhat_a", equipment_id="P-7")
    assert first == second
    to_rectification(api, first)
    image_b, box_b = fixture("hardhat_b")
    image_a, box_a = fixture("hardhat_a")
    partly = rectify(api, first, jpeg(rectified(image_b, box_b)))["verification"]
    assert isinstance(partly, dict) and partly["verdict"] != "resolved", partly
    assert (partly["regions_checked"], partly["regions_resolved"]) == (2, 1)
    assert partly["reasons"]  # what the unresolved region's comparison saw

    step(
        api,
        first,
        "review",
        R.REVIEWER,
        {"approve": False, "reason": "the second worker is still bare-headed"},
    )
    both = rectify(api, first, jpeg(rectified(image_b, box_b)), jpeg(rectified(image_a, box_a)))[
        "verification"
    ]
    assert isinstance(both, dict) and both["verdict"] == "resolved", both
    assert (both["regions_checked"], both["regions_resolved"]) == (2, 2)


def test_an_identical_after_photo_says_so(api: ApiHarness) -> None:
    image, _ = fixture("hardhat_b")
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    verification = rectify(api, hazard_id, jpeg(image))["verification"]
    assert isinstance(verification, dict) and verification["verdict"] == "not_resolved"
    assert verification["reasons"] == ["after photo is identical to the before photo"]
    detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(R.REVIEWER)).json()
    stored = [e for e in detail["evidence"] if e["kind"] == "verification"][-1]["payload"]
    assert stored["reasons"] == ["after photo is identical to the before photo"]  # kept for the reviewer
