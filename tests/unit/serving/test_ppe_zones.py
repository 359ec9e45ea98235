"""Per-zone PPE requirements: the union decides what the rules look for; each finding is then kept only
where its zone demands it. Also end to end through the camera task with the real PPE model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest

from cameras.config import ZonePolygon
from serving.pipelines.camera_inspect import InspectPayload
from serving.pipelines.camera_monitor import inspect_task
from serving.pipelines.ppe_zones import demanded, demanded_findings, frame_requirements
from serving.settings import PpeRequirement, VisionSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from vision.detections import Finding
from vision.ppe import NO_HELMET, NO_VEST, ZoneRequirements
from workflow.services.queries import HazardFilter, list_hazards

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"
NO_HELMETS = PpeRequirement(helmet=False)
VEST_TOO = PpeRequirement(helmet=True, vest=True)
VISION = VisionSettings(ppe_zones={"office": NO_HELMETS, "loading": VEST_TOO})


def test_the_frame_looks_for_what_any_of_its_zones_demands() -> None:
    assert frame_requirements(VISION, ["office"]) == ZoneRequirements(helmet=False, vest=False)
    assert frame_requirements(VISION, ["office", "loading"]) == ZoneRequirements(helmet=True, vest=True)
    assert frame_requirements(VISION, ["elsewhere"]) == ZoneRequirements(helmet=True, vest=False)
    assert frame_requirements(VISION, []) == ZoneRequirements(helmet=True, vest=False)
    everywhere_vests = VisionSettings(ppe_default=VEST_TOO)
    assert frame_requirements(everywhere_vests, ["x"]) == ZoneRequirements(helmet=True, vest=True)


def test_findings_are_kept_only_where_their_zone_demands_them() -> None:
    assert not demanded(NO_HELMET, NO_HELMETS) and demanded(NO_VEST, VEST_TOO)
    assert not demanded(NO_VEST, PpeRequirement()) and demanded("leak.leak", NO_HELMETS)
    findings = [
        Finding(NO_HELMET, 0.9, (0, 0, 10, 10)),  # in the office: no helmet needed there
        Finding(NO_HELMET, 0.8, (100, 0, 110, 10)),  # on the loading bay
        Finding(NO_VEST, 0.7, (0, 0, 10, 10)),  # office: no vest needed
        Finding(NO_VEST, 0.6, (100, 0, 110, 10)),
        Finding("leak.leak", 0.5, (0, 0, 10, 10)),  # a leak is a hazard anywhere
    ]
    kept = demanded_findings(VISION, findings, lambda f: "office" if f.box[0] < 50 else "loading")
    assert [(f.kind, f.confidence) for f in kept] == [(NO_HELMET, 0.8), (NO_VEST, 0.6), ("leak.leak", 0.5)]


def test_settings_refuse_unknown_requirements() -> None:
    with pytest.raises(ValueError, match="gloves"):
        VisionSettings.model_validate({"ppe_zones": {"office": {"gloves": True}}})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    vision = VisionSettings(ppe_zones={"control-room": NO_HELMETS})
    with api_harness(embedded_settings(tmp_path, vision=vision)) as harness:
        yield harness


@pytest.mark.parametrize(("zone", "hazards"), [("control-room", []), ("tank-farm", ["ppe.no_helmet"])])
def test_camera_frames_raise_helmet_hazards_only_in_zones_that_require_helmets(
    api: ApiHarness, zone: str, hazards: list[str]
) -> None:
    task = inspect_task(api.container)
    assert task is not None
    key = api.container.objects.put(FIXTURE.read_bytes(), content_type="image/jpeg").key
    whole = ZonePolygon(name=zone, points=((0, 0), (500, 0), (500, 375), (0, 375)))
    for at in (datetime.now(UTC) - timedelta(seconds=s) for s in (6, 1)):  # two frames: confirmed
        payload = InspectPayload(
            camera_id="cam-a", zone="yard", polygons=(whole,), snapshot_key=key, captured_at=at, sequence=1
        )
        task(payload)
    assert [h.kind for h in list_hazards(api.container.workflow, HazardFilter()).items] == hazards


def test_an_inspector_photo_in_a_zone_without_the_helmet_rule_files_no_helmet_hazard(api: ApiHarness) -> None:
    from workflow.domain.roles import Role

    def upload(zone: str, data: bytes) -> Any:
        response = api.client.post(
            "/api/v1/photos",
            files={"file": (f"{zone}.jpg", data, "image/jpeg")},
            data={"zone": zone},
            headers=api.auth(Role.INSPECTOR) | {"Idempotency-Key": f"photo-{zone}"},
        )
        assert response.status_code == 201, response.text
        return response.json()

    office = upload("control-room", FIXTURE.read_bytes())
    assert "head" in {d["label"] for d in office["detections"]}
    assert office["findings"] == [] and office["hazards"] == []
    # The same scene in another zone (re-encoded: identical bytes would be a replay of the first photo).
    pixels = cv2.imread(str(FIXTURE))
    assert pixels is not None
    ok, other = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 97])
    assert ok
    yard = upload("tank-farm", other.tobytes())
    assert {f["kind"] for f in yard["findings"]} == {"ppe.no_helmet"}
    assert [h["outcome"] for h in yard["hazards"]] == ["created"]


def test_the_documented_environment_variables_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from serving.settings import load_settings

    monkeypatch.setenv(
        "HAZARDEYE_VISION__PPE_ZONES", '{"control-room": {"helmet": false}, "bay": {"vest": true}}'
    )
    monkeypatch.setenv("HAZARDEYE_MONITOR__FRAME_RETENTION_H", "null")
    monkeypatch.setenv("HAZARDEYE_VISION__ALLOW_SPINNING", "true")
    settings = load_settings()
    assert settings.vision.ppe_for("control-room") == NO_HELMETS
    assert settings.vision.ppe_for("bay") == VEST_TOO and settings.vision.ppe_for("yard") == PpeRequirement()
    assert settings.monitor.frame_retention_h is None and settings.vision.allow_spinning
    monkeypatch.setenv("HAZARDEYE_MONITOR__FRAME_RETENTION_H", "0.5")  # under an hour: refused
    with pytest.raises(ValueError, match="frame_retention_h"):
        load_settings()
