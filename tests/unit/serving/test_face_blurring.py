"""Face blurring (HAZARDEYE_PRIVACY__*) on the embedded profile with the real PPE model: the original stays
sealed evidence, served to the roles allowed to see it (each view audited) and blurred to everyone else;
camera frames the same; per-zone override; the blurred copy of a frame lives as long as its original."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from serving.pipelines.camera_inspect import InspectPayload
from serving.pipelines.camera_monitor import inspect_task
from serving.settings import PrivacySettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.test_api_hazards import to_rectification
from workflow.domain.roles import Role
from workflow.persistence.orm import AuditRow
from workflow.services.frames import expired_frames, forget_frames, record_frame
from workflow.services.queries import HazardFilter, hazard_detail, list_hazards
from workflow.services.seals import seal_object, seal_of

HARDHAT = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat"
WITH_HEADS = HARDHAT / "images" / "004951.jpg"  # 9 labelled heads: 7 bare, 2 helmets
HELMETS_ONLY = HARDHAT / "images" / "004944.jpg"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[ApiHarness]:
    privacy = PrivacySettings(blur_faces=True, zones={"yard": False})
    with api_harness(embedded_settings(tmp_path, privacy=privacy)) as harness:
        yield harness


def _labelled_heads(name: str, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The fixture's own labels (not the model): head and helmet boxes in pixels."""
    boxes = []
    for line in (HARDHAT / "labels" / f"{name}.txt").read_text().split("\n"):
        if not line.strip():
            continue
        cls, cx, cy, w, h = (float(v) for v in line.split())
        if int(cls) in (0, 1):
            boxes.append((
                int((cx - w / 2) * width), int((cy - h / 2) * height),
                int((cx + w / 2) * width), int((cy + h / 2) * height),
            ))  # fmt: skip
    return boxes


def _detail(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Mean neighbour difference inside the middle of ``box`` (drawn box edges left out)."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) // 4, (y2 - y1) // 4
    patch = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[y1 + my : y2 - my, x1 + mx : x2 - mx].astype(float)
    return float(np.abs(np.diff(patch, axis=1)).mean())


def _blurred_heads(original: np.ndarray, shown: np.ndarray, name: str) -> int:
    height, width = original.shape[:2]
    heads = _labelled_heads(name, width, height)
    assert len(heads) == 9 if name == "004951" else heads
    return sum(1 for b in heads if _detail(shown, b) < 0.5 * _detail(original, b))


def _get(h: ApiHarness, key: str, role: Role) -> tuple[int, dict[str, str], bytes]:
    response = h.client.get(f"/api/v1/objects/{key}", headers=h.auth(role))
    return response.status_code, dict(response.headers), response.content


def _upload(h: ApiHarness, path: Path, zone: str) -> dict[str, object]:
    response = h.client.post(
        "/api/v1/photos",
        files={"file": (path.name, path.read_bytes(), "image/jpeg")},
        data={"zone": zone},
        headers=h.auth(Role.INSPECTOR),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_photo_original_is_sealed_and_everyone_else_sees_the_faces_blurred(h: ApiHarness) -> None:
    body = _upload(h, WITH_HEADS, "tank-farm")
    original_key, annotated_key = str(body["original_key"]), str(body["annotated_key"])
    status, _, stored = _get(h, original_key, Role.ADMIN)
    assert status == 200
    original = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_COLOR)

    # The inspector who took it, the rectifier and the reviewer: the blurred copy, never cached.
    for role in (Role.INSPECTOR, Role.RECTIFIER, Role.REVIEWER):
        status, headers, data = _get(h, original_key, role)
        assert status == 200 and data != stored
        assert headers["x-hazardeye-faces"] == "blurred" and "no-store" in headers["cache-control"]
        assert "etag" not in headers
        shown = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert shown.shape == original.shape
        assert _blurred_heads(original, shown, "004951") >= 7  # of the 9 labelled heads
        # Away from people the picture is the same (JPEG re-encoding aside): most pixels within 12 levels.
        close = np.abs(shown.astype(int) - original.astype(int)).max(axis=2) <= 12
        assert close.mean() > 0.8

    blurred = shown
    # Admin and safety engineer: the sealed original itself, byte for byte, and the audit log says so.
    for role in (Role.ADMIN, Role.SAFETY_ENGINEER):
        status, headers, data = _get(h, original_key, role)
        assert status == 200 and data == stored and headers["x-hazardeye-faces"] == "original"
    assert hashlib.sha256(stored).hexdigest() == original_key  # the evidence is the untouched original
    with h.container.sessions() as session:
        views = session.scalars(select(AuditRow).where(AuditRow.action == "object.sealed_view")).all()
        assert [(v.entity_id, v.actor) for v in views] == [
            (original_key, "admin-user"),
            (original_key, "admin-user"),
            (original_key, "safety_engineer-user"),
        ]

    # The annotated image is a derivative: drawn on the blurred picture, for everyone.
    status, headers, data = _get(h, annotated_key, Role.INSPECTOR)
    assert status == 200 and "x-hazardeye-faces" not in headers
    drawn = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    # Boxes and labels are drawn over the faces, so compare: inside each labelled head the annotated image
    # is the blurred picture (plus drawing), not the original one.
    height, width = original.shape[:2]
    nearer_blurred = 0
    for x1, y1, x2, y2 in _labelled_heads("004951", width, height):
        region = (slice(y1, y2), slice(x1, x2))
        to_blurred = np.abs(drawn[region].astype(int) - blurred[region].astype(int)).mean()
        to_original = np.abs(drawn[region].astype(int) - original[region].astype(int)).mean()
        nearer_blurred += int(to_blurred < to_original)
    assert nearer_blurred >= 7


def test_a_zone_that_opts_out_keeps_its_photos_as_they_are(h: ApiHarness) -> None:
    body = _upload(h, HELMETS_ONLY, "yard")
    key = str(body["original_key"])
    assert seal_of(h.container.workflow, key) is None
    status, headers, data = _get(h, key, Role.INSPECTOR)
    assert status == 200 and hashlib.sha256(data).hexdigest() == key and "x-hazardeye-faces" not in headers


def test_a_sealed_original_without_its_blurred_copy_is_refused_to_others(h: ApiHarness) -> None:
    key = h.container.objects.put(HELMETS_ONLY.read_bytes(), content_type="image/jpeg").key
    seal_object(h.container.workflow, key, "tank-farm")  # as at upload, before the analysis
    status, _, data = _get(h, key, Role.INSPECTOR)
    assert status == 403 and b"sealed" in data
    assert _get(h, key, Role.ADMIN)[0] == 200
    with pytest.raises(ValueError, match="own blurred copy"):
        seal_object(h.container.workflow, key, "tank-farm", key)


def test_camera_frames_are_sealed_and_their_blurred_copies_live_as_long_as_they_do(h: ApiHarness) -> None:
    task = inspect_task(h.container)
    assert task is not None
    start = datetime.now(UTC) - timedelta(seconds=30)
    snapshots = []
    scene = cv2.imread(str(WITH_HEADS))
    for n in range(2):  # two frames: the second confirms the finding, so the frames become evidence
        frame = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 90 + n])[1].tobytes()  # sensor noise
        key = h.container.objects.put(frame, content_type="image/jpeg").key
        record_frame(h.container.workflow, key, "cam-a")
        seal_object(h.container.workflow, key, "tank-farm")  # what the monitor does when it stores it
        task(InspectPayload(
            camera_id="cam-a", zone="tank-farm", polygons=(), snapshot_key=key,
            captured_at=start + timedelta(seconds=n), sequence=n,
        ))  # fmt: skip
        snapshots.append(key)
    seals = [seal_of(h.container.workflow, key) for key in snapshots]
    assert all(s is not None and s.display_key for s in seals)
    original = cv2.imread(str(WITH_HEADS))
    status, headers, data = _get(h, snapshots[0], Role.REVIEWER)
    assert status == 200 and headers["x-hazardeye-faces"] == "blurred"
    shown = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert _blurred_heads(original, shown, "004951") >= 7

    hazards = list_hazards(h.container.workflow, HazardFilter()).items
    assert len(hazards) == 1
    evidence = {k for e in hazard_detail(h.container.workflow, hazards[0].id).evidence for k in e.object_keys}
    assert snapshots[1] in evidence and snapshots[0] not in evidence  # the first frame only confirmed
    later = datetime.now(UTC) + timedelta(days=30)
    expiring = set(expired_frames(h.container.workflow, later))
    kept_copy, dropped_copy = seals[1].display_key, seals[0].display_key  # type: ignore[union-attr]
    assert kept_copy != dropped_copy
    assert kept_copy not in expiring  # the blurred copy of evidence stays with it
    assert {snapshots[0], dropped_copy} <= expiring
    forget_frames(h.container.workflow, [snapshots[0]], later)
    assert seal_of(h.container.workflow, snapshots[0]) is None  # a deleted frame's seal goes with it


def test_manual_report_and_after_photos_are_sealed_and_the_comparison_is_blurred(h: ApiHarness) -> None:
    manual = h.client.post(
        "/api/v1/hazards",
        files={"file": ("round.jpg", WITH_HEADS.read_bytes(), "image/jpeg")},
        data={"zone": "tank-farm", "kind": "manual.housekeeping", "description": "cables on the walkway"},
        headers=h.auth(Role.INSPECTOR),
    )
    assert manual.status_code == 201, manual.text
    detail = h.client.get(f"/api/v1/hazards/{manual.json()['id']}", headers=h.auth(Role.INSPECTOR)).json()
    photo_key = detail["evidence"][0]["object_keys"][0]
    assert _get(h, photo_key, Role.INSPECTOR)[1]["x-hazardeye-faces"] == "blurred"

    body = _upload(h, WITH_HEADS, "tank-farm")
    hazard_id = next(int(x["hazard_id"]) for x in body["hazards"])  # type: ignore[attr-defined]
    to_rectification(h, hazard_id)
    scene = cv2.imread(str(WITH_HEADS))
    after = cv2.imencode(".jpg", cv2.convertScaleAbs(scene, alpha=0.9, beta=8))[1].tobytes()  # same place
    response = h.client.post(
        f"/api/v1/hazards/{hazard_id}/rectify",
        files=[("file", ("after.jpg", after, "image/jpeg"))],
        headers=h.auth(Role.RECTIFIER),
    )
    assert response.status_code == 200, response.text
    detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.auth(Role.REVIEWER)).json()
    after_key = next(e["object_keys"][0] for e in detail["evidence"] if e["kind"] == "after_photo")
    status, headers, data = _get(h, after_key, Role.REVIEWER)
    assert status == 200 and headers["x-hazardeye-faces"] == "blurred"
    original_after = cv2.imdecode(np.frombuffer(after, np.uint8), cv2.IMREAD_COLOR)
    shown = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert _blurred_heads(original_after, shown, "004951") >= 6  # a darker copy: one head fewer found
    side_key = response.json()["verification"]["side_by_side_key"]
    assert isinstance(side_key, str)
    side = cv2.imdecode(np.frombuffer(h.container.objects.get(side_key), np.uint8), cv2.IMREAD_COLOR)
    # The comparison shows before | after at its own scale: the faces in it are found and blurred again,
    # so both halves hold far less detail in the heads' band than the photos themselves.
    height, width = side.shape[:2]
    band = cv2.resize(scene, (width // 2, height))[int(height * 0.45) : int(height * 0.75)]
    side_band = side[int(height * 0.45) : int(height * 0.75), : width // 2]
    gray = [cv2.cvtColor(x, cv2.COLOR_BGR2GRAY).astype(float) for x in (band, side_band)]
    assert np.abs(np.diff(gray[1], axis=1)).mean() < 0.8 * np.abs(np.diff(gray[0], axis=1)).mean()
