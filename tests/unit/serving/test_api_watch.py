"""A camera's watched regions over HTTP: the camera file's until regions are set (safety engineer),
checked like the file's and against the camera's frame, and back to the file's on DELETE."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cameras.config import CameraConfig
from serving.pipelines.camera_board import CameraBoard
from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.roles import Role

ENGINEER, INSPECTOR, ADMIN = Role.SAFETY_ENGINEER, Role.INSPECTOR, Role.ADMIN
FILE_SEAL = {"name": "P-7 seal", "kind": "pump_seal", "points": [[420, 210], [460, 210], [460, 250]]}
VALVE = {"name": "valve V-2", "kind": "valve", "points": [[20, 20], [120, 20], [120, 100], [20, 100]]}
FLANGE = {"name": "F-12", "kind": "flange", "points": [[200, 150], [260, 150], [230, 200]]}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        board = CameraBoard(
            [
                CameraConfig.model_validate(
                    {"id": "pump-1", "name": "Pump house", "url": "rtsp://10.0.0.5/s", "zone": "pumps",
                     "watch": [FILE_SEAL]}
                ),
                CameraConfig(id="gate-1", name="Gate", url="rtsp://10.0.0.6/s", zone="gate"),
            ]
        )  # fmt: skip
        board.on_snapshot("pump-1", "a" * 64, datetime(2026, 12, 3, 9, 0, tzinfo=UTC), size=(480, 360))
        harness.client.app.state.camera_board = board  # type: ignore[attr-defined]
        yield harness


def _get(api: ApiHarness, camera: str = "pump-1", role: Role = INSPECTOR) -> dict[str, object]:
    response = api.client.get(f"/api/v1/cameras/{camera}/watch", headers=api.auth(role))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _put(
    api: ApiHarness, regions: list[dict[str, object]], camera: str = "pump-1", role: Role = ENGINEER
) -> httpx.Response:
    return api.client.put(
        f"/api/v1/cameras/{camera}/watch", json={"regions": regions}, headers=api.auth(role)
    )


def test_the_camera_files_regions_until_some_are_set(api: ApiHarness) -> None:
    assert _get(api) == {
        "camera_id": "pump-1",
        "source": "file",
        "regions": [
            {
                "name": "P-7 seal",
                "kind": "pump_seal",
                "points": [[420.0, 210.0], [460.0, 210.0], [460.0, 250.0]],
            }
        ],
        "frame": {"width": 480, "height": 360},
        "updated_at": None,
        "updated_by": None,
    }
    # A camera without a frame yet and without regions in its file.
    assert _get(api, "gate-1") == {
        "camera_id": "gate-1",
        "source": "file",
        "regions": [],
        "frame": None,
        "updated_at": None,
        "updated_by": None,
    }


def test_regions_set_replace_the_files_and_delete_brings_them_back(api: ApiHarness) -> None:
    response = _put(api, [VALVE, FLANGE])
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["updated_by"] == "safety_engineer-user" and stored["updated_at"] is not None
    assert {k: v for k, v in stored.items() if k not in {"updated_at", "updated_by"}} == {
        "camera_id": "pump-1",
        "source": "api",
        "regions": [
            {"name": "valve V-2", "kind": "valve",
             "points": [[20.0, 20.0], [120.0, 20.0], [120.0, 100.0], [20.0, 100.0]]},
            {"name": "F-12", "kind": "flange", "points": [[200.0, 150.0], [260.0, 150.0], [230.0, 200.0]]},
        ],
        "frame": {"width": 480, "height": 360},
    }  # fmt: skip
    assert _get(api) == stored  # every role reads them

    # An empty list watches nothing (it does not fall back to the file's).
    nothing = _put(api, [])
    assert nothing.status_code == 200 and (nothing.json()["source"], nothing.json()["regions"]) == ("api", [])

    deleted = api.client.delete("/api/v1/cameras/pump-1/watch", headers=api.auth(ENGINEER))
    assert deleted.status_code == 204 and deleted.content == b""
    back = _get(api)
    assert (back["source"], back["updated_by"]) == ("file", None)
    assert back["regions"] == [
        {"name": "P-7 seal", "kind": "pump_seal", "points": [[420.0, 210.0], [460.0, 210.0], [460.0, 250.0]]}
    ]
    # Deleting again changes nothing and is no error.
    assert api.client.delete("/api/v1/cameras/pump-1/watch", headers=api.auth(ADMIN)).status_code == 204

    audit = api.client.get("/api/v1/audit", headers=api.auth(ADMIN)).json()["items"]
    actions = [(e["action"], e["entity_id"], e["actor"]) for e in audit if e["action"].startswith("camera.")]
    assert actions == [  # newest first
        ("camera.watch.clear", "pump-1", "safety_engineer-user"),
        ("camera.watch.set", "pump-1", "safety_engineer-user"),
        ("camera.watch.set", "pump-1", "safety_engineer-user"),
    ]


def test_a_camera_without_file_regions_gets_some(api: ApiHarness) -> None:
    response = _put(api, [VALVE], camera="gate-1", role=ADMIN)
    assert response.status_code == 200, response.text
    assert (response.json()["source"], [r["name"] for r in response.json()["regions"]]) == (
        "api",
        ["valve V-2"],
    )
    assert response.json()["frame"] is None


def test_only_a_safety_engineer_sets_or_deletes_them(api: ApiHarness) -> None:
    refused = _put(api, [VALVE], role=INSPECTOR)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": {
            "error": "forbidden",
            "message": "role 'inspector' may not do this; needs one of ['admin', 'safety_engineer']",
        }
    }
    assert api.client.delete("/api/v1/cameras/pump-1/watch", headers=api.auth(INSPECTOR)).status_code == 403
    assert api.client.get("/api/v1/cameras/pump-1/watch").status_code == 401
    assert _get(api)["source"] == "file"


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        (
            [
                VALVE,
                {"name": "far", "kind": "floor", "points": [[400, 300], [500, 300], [500, 400], [400, 400]]},
            ],
            "region 'far': (400.0, 300.0, 500.0, 400.0) lies outside the 480×360 frame",
        ),
        (
            [{"name": "thin", "kind": "pipe_run", "points": [[0, 0], [100, 100], [100, 101]]}],
            "region 'thin': its polygon encloses 50 px²; at least 64",
        ),
        (
            [VALVE, {**FLANGE, "name": "valve V-2"}],
            "body.regions: Value error, duplicate watched region names: valve V-2",
        ),
        (
            [{"name": "tiny", "kind": "valve", "points": [[10, 10], [14, 10], [14, 14]]}],
            "body.regions.0: Value error, watched region 'tiny' spans 4×4 px; at least 8×8",
        ),
        (
            [{"name": "minus", "kind": "valve", "points": [[-1, 10], [40, 10], [40, 40]]}],
            "body.regions.0.points: Value error, polygon points must be non-negative image coordinates",
        ),
        (
            [{"name": "two", "kind": "valve", "points": [[10, 10], [40, 40]]}],
            "body.regions.0.points: Tuple should have at least 3 items after validation, not 2",
        ),
        (
            [{**VALVE, "kind": "boiler"}],
            "body.regions.0.kind: Input should be 'flange', 'valve', 'pump_seal', 'pipe_run' or 'floor'",
        ),
        ([{**VALVE, "colour": "red"}], "body.regions.0.colour: Extra inputs are not permitted"),
        ([VALVE] * 65, "body.regions: List should have at most 64 items after validation, not 65"),
    ],
)
def test_bad_regions_are_refused_with_the_reason(
    api: ApiHarness, regions: list[dict[str, object]], message: str
) -> None:
    response = _put(api, regions)
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": {"error": "invalid_input", "message": message}}
    assert _get(api)["source"] == "file"  # nothing stored


def test_without_a_frame_only_the_frame_outside_rule_waits(api: ApiHarness) -> None:
    far = {"name": "far", "kind": "floor", "points": [[4000, 3000], [5000, 3000], [5000, 4000]]}
    assert _put(api, [far], camera="gate-1").status_code == 200  # its size is not known yet
    huge = {"name": "huge", "kind": "floor", "points": [[0, 0], [1e9, 0], [1e9, 1e9]]}
    assert _put(api, [huge], camera="gate-1").status_code == 200
    thin = {"name": "thin", "kind": "pipe_run", "points": [[0, 0], [100, 100], [100, 101]]}
    refused = _put(api, [thin], camera="gate-1")
    assert refused.status_code == 422
    assert refused.json()["detail"]["message"] == "region 'thin': its polygon encloses 50 px²; at least 64"


def test_a_nan_point_is_refused(api: ApiHarness) -> None:
    body = '{"regions": [{"name": "n", "kind": "valve", "points": [[NaN, 10], [40, 10], [40, 40]]}]}'
    response = api.client.put(
        "/api/v1/cameras/pump-1/watch",
        content=body,
        headers={**api.auth(ENGINEER), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["message"] == (
        "body.regions.0.points: Value error, polygon points must be finite numbers"
    )


def test_an_unknown_camera_is_404(api: ApiHarness) -> None:
    expected = {"detail": {"error": "not_found", "message": "camera nope is not monitored by this server"}}
    get = api.client.get("/api/v1/cameras/nope/watch", headers=api.auth(INSPECTOR))
    put = _put(api, [VALVE], camera="nope")
    delete = api.client.delete("/api/v1/cameras/nope/watch", headers=api.auth(ENGINEER))
    assert [(r.status_code, r.json()) for r in (get, put, delete)] == [(404, expected)] * 3


def test_the_routes_are_documented(api: ApiHarness) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    watch = paths["/api/v1/cameras/{camera_id}/watch"]
    assert set(watch) == {"get", "put", "delete"}
    assert set(watch["get"]["responses"]) == {"200", "401", "404", "422"}
    assert set(watch["put"]["responses"]) == {"200", "401", "403", "404", "422"}
    assert set(watch["delete"]["responses"]) == {"204", "401", "403", "404", "422"}
    ok = watch["put"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/WatchOut"}
    assert watch["put"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WatchIn"
    }
