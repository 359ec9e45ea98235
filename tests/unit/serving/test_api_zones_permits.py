"""Zones and permits-to-work over HTTP: roles, two-person approval, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.roles import Role

ENGINEER, INSPECTOR, ADMIN = Role.SAFETY_ENGINEER, Role.INSPECTOR, Role.ADMIN


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def _zone(api: ApiHarness, zone_id: str = "tank-farm", kinds: tuple[str, ...] = ("hot_work",)) -> None:
    body = {"name": "Tank farm", "area": "north", "permit_kinds": list(kinds)}
    response = api.client.put(f"/api/v1/zones/{zone_id}", json=body, headers=api.auth(ENGINEER))
    assert response.status_code == 200, response.text


def _permit_body(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    body: dict[str, object] = {
        "type": "hot_work",
        "zone": "tank-farm",
        "valid_from": (now - timedelta(minutes=5)).isoformat(),
        "valid_to": (now + timedelta(hours=4)).isoformat(),
        "min_people": 2,
        "watcher_required": True,
        "description": "weld flange F-12",
    }
    body.update(overrides)
    return body


def test_zone_upsert_and_list(api: ApiHarness) -> None:
    _zone(api, "tank-farm", ("hot_work", "confined_space"))
    _zone(api, "office", ())
    listed = api.client.get("/api/v1/zones", headers=api.auth(INSPECTOR)).json()
    assert [z["id"] for z in listed] == ["office", "tank-farm"]
    tank = listed[1]
    assert tank["permit_required"] is True
    assert tank["permit_kinds"] == ["confined_space", "hot_work"]
    assert listed[0]["permit_required"] is False
    # Updating keeps one row.
    _zone(api, "office", ("electrical",))
    listed = api.client.get("/api/v1/zones", headers=api.auth(INSPECTOR)).json()
    assert [z["permit_kinds"] for z in listed] == [["electrical"], ["confined_space", "hot_work"]]


@pytest.mark.parametrize(
    ("path", "body", "role", "status"),
    [
        ("/api/v1/zones/z1", {"name": "Z", "area": "a"}, INSPECTOR, 403),
        ("/api/v1/zones/z1", {"name": "Z", "area": "a", "permit_kinds": ["juggling"]}, ENGINEER, 422),
        ("/api/v1/zones/z1", {"name": "Z"}, ENGINEER, 422),
        ("/api/v1/zones/z1", {"name": "Z", "area": "a", "extra": 1}, ENGINEER, 422),
        ("/api/v1/zones/bad%20id", {"name": "Z", "area": "a"}, ENGINEER, 422),
    ],
)
def test_zone_refusals(api: ApiHarness, path: str, body: dict[str, object], role: Role, status: int) -> None:
    response = api.client.put(path, json=body, headers=api.auth(role))
    assert response.status_code == status, response.text
    assert api.client.get("/api/v1/zones", headers=api.auth(role)).json() == []


def test_zone_routes_need_a_key(api: ApiHarness) -> None:
    assert api.client.get("/api/v1/zones").status_code == 401


def test_permit_needs_two_distinct_approvers_then_suspends(api: ApiHarness) -> None:
    _zone(api)
    created = api.client.post("/api/v1/permits", json=_permit_body(), headers=api.auth(INSPECTOR))
    assert created.status_code == 201, created.text
    permit = created.json()
    assert (permit["status"], permit["approvals"], permit["type"]) == ("pending", 0, "hot_work")
    pid = permit["id"]

    first = api.client.post(f"/api/v1/permits/{pid}/approve", headers=api.auth(ENGINEER))
    assert first.status_code == 200 and first.json()["status"] == "pending"
    again = api.client.post(f"/api/v1/permits/{pid}/approve", headers=api.auth(ENGINEER))
    assert again.status_code == 403  # the same person cannot approve twice
    assert api.client.post(f"/api/v1/permits/{pid}/approve", headers=api.auth(INSPECTOR)).status_code == 403
    second = api.client.post(f"/api/v1/permits/{pid}/approve", headers=api.auth(ADMIN))
    assert second.json()["status"] == "active" and second.json()["approvals"] == 2

    active = api.client.get("/api/v1/permits?state=active&zone=tank-farm", headers=api.auth(INSPECTOR)).json()
    assert [p["id"] for p in active] == [pid]
    assert api.client.get("/api/v1/permits?state=pending", headers=api.auth(INSPECTOR)).json() == []

    no_reason = api.client.post(f"/api/v1/permits/{pid}/suspend", json={}, headers=api.auth(ENGINEER))
    assert no_reason.status_code == 422
    suspended = api.client.post(
        f"/api/v1/permits/{pid}/suspend", json={"reason": "gas detected"}, headers=api.auth(ENGINEER)
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["suspend_reason"] == "gas detected"
    fetched = api.client.get(f"/api/v1/permits/{pid}", headers=api.auth(INSPECTOR)).json()
    assert fetched == suspended.json()


def test_requester_cannot_approve_own_permit(api: ApiHarness) -> None:
    _zone(api)
    pid = api.client.post("/api/v1/permits", json=_permit_body(), headers=api.auth(ENGINEER)).json()["id"]
    response = api.client.post(f"/api/v1/permits/{pid}/approve", headers=api.auth(ENGINEER))
    assert response.status_code == 403
    assert response.json()["detail"]["error"] == "forbidden"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"zone": "nowhere"}, 404),
        ({"type": "juggling"}, 422),
        ({"valid_to": "2020-01-01T00:00:00+00:00"}, 422),  # before valid_from
        ({"valid_from": "2026-01-01T00:00:00"}, 422),  # naive time
        ({"min_people": 1}, 422),  # a watcher needs a second person
        ({"min_people": 0, "watcher_required": False}, 422),
        ({"min_people": 3, "max_people": 2}, 422),  # the crew cannot be smaller than the minimum
        ({"max_people": 0}, 422),
        ({"surprise": True}, 422),
    ],
)
def test_permit_request_refusals(api: ApiHarness, overrides: dict[str, object], status: int) -> None:
    _zone(api)
    response = api.client.post("/api/v1/permits", json=_permit_body(**overrides), headers=api.auth(INSPECTOR))
    assert response.status_code == status, response.text
    assert api.client.get("/api/v1/permits", headers=api.auth(INSPECTOR)).json() == []


def test_permit_malformed_json_unknown_ids_and_roles(api: ApiHarness) -> None:
    _zone(api)
    headers = {**api.auth(INSPECTOR), "Content-Type": "application/json"}
    assert api.client.post("/api/v1/permits", content=b'{"type": ', headers=headers).status_code == 422
    assert api.client.get("/api/v1/permits/999", headers=api.auth(INSPECTOR)).status_code == 404
    assert api.client.post("/api/v1/permits/999/approve", headers=api.auth(ENGINEER)).status_code == 404
    suspend = api.client.post("/api/v1/permits/999/suspend", json={"reason": "x"}, headers=api.auth(ENGINEER))
    assert suspend.status_code == 404
    assert api.client.get("/api/v1/permits/abc", headers=api.auth(INSPECTOR)).status_code == 422
    reviewer = api.client.post("/api/v1/permits", json=_permit_body(), headers=api.auth(Role.REVIEWER))
    assert reviewer.status_code == 403
