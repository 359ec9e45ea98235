"""Flow 2 on the embedded profile: an inspector's photo → stored original → detector → hazards."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select

from serving.objects.keys import content_key
from serving.settings import LocalObjectStoreSettings, PhotoSettings, VisionSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from vision.images import decode_image
from workflow.domain.config import WorkflowConfig
from workflow.domain.grading import grade
from workflow.domain.observations import PPE_OK_KIND
from workflow.domain.roles import Role
from workflow.persistence.orm import ObservationRow
from workflow.persistence.photo_rows import PhotoRow

IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images"
NO_HELMET = IMAGES / "004951.jpg"  # the shipped model finds bare heads here
HELMETS_ONLY = IMAGES / "004944.jpg"  # seven helmets, no finding (ppe@2 boxes a plant in 004947 as a head)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def upload(
    h: ApiHarness,
    data: bytes,
    *,
    role: Role = Role.INSPECTOR,
    name: str = "site.jpg",
    content_type: str = "image/jpeg",
    key: str | None = None,
    fields: dict[str, str] | None = None,
    **form: str,
) -> Response:
    headers = h.auth(role) | ({"Idempotency-Key": key} if key else {})
    fields = {"zone": "tank-farm", **(fields or {}), **form}
    response: Response = h.client.post(
        "/api/v1/photos", files={"file": (name, data, content_type)}, data=fields, headers=headers
    )
    return response


def _json(response: Response) -> Any:
    return response.json()


def _objects_root(h: ApiHarness) -> Path:
    settings = h.container.settings.objects
    assert isinstance(settings, LocalObjectStoreSettings)
    return settings.root


def _count(h: ApiHarness, stmt: object) -> int:
    with h.container.sessions() as session:
        return int(session.scalar(stmt))  # type: ignore[call-overload]


def test_upload_files_hazards_with_the_photo_as_evidence(h: ApiHarness) -> None:
    data = NO_HELMET.read_bytes()
    response = upload(h, data, area="north", equipment_id="P-101", description="round 3")
    assert response.status_code == 201, response.text
    body = _json(response)
    assert body["status"] == "done" and body["error"] is None
    assert body["models"] == ["ppe@2"]  # the leak prototype runs on photos only when opted in
    assert (body["width"], body["height"]) == Image.open(NO_HELMET).size
    labels = {d["label"] for d in body["detections"]}
    assert "head" in labels
    assert all(d["model"] == "ppe@2" for d in body["detections"])
    assert {f["kind"] for f in body["findings"]} == {"ppe.no_helmet"}
    hazards = body["hazards"]
    assert isinstance(hazards, list) and [x["outcome"] for x in hazards] == ["created"]

    # The original is stored under the photo id (its content hash) and is metadata-free JPEG.
    original = h.client.get(f"/api/v1/objects/{body['original_key']}", headers=h.auth(Role.RECTIFIER))
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert body["photo_id"] == body["original_key"] == content_key(original.content)
    pixels = decode_image(original.content, source="original", max_pixels=10**8)
    assert pixels.shape[:2] == (body["height"], body["width"])
    annotated = h.client.get(f"/api/v1/objects/{body['annotated_key']}", headers=h.auth(Role.REVIEWER))
    assert annotated.status_code == 200 and annotated.content != original.content

    detail = _json(h.client.get(f"/api/v1/hazards/{hazards[0]['hazard_id']}", headers=h.auth(Role.INSPECTOR)))
    hazard = detail["hazard"]
    assert isinstance(hazard, dict)
    assert (hazard["kind"], hazard["zone"], hazard["equipment_id"]) == ("ppe.no_helmet", "tank-farm", "P-101")
    assert (hazard["source_kind"], hazard["source_id"]) == ("photo", body["photo_id"])
    evidence = detail["evidence"]
    assert isinstance(evidence, list) and evidence
    assert all(e["object_keys"] == [body["original_key"], body["annotated_key"]] for e in evidence)
    assert evidence[0]["by"] == "inspector-user"
    # One hazard per kind and equipment, one evidence item per photo: its three bare heads are boxes of
    # that one item (drawn on the annotated image), not three copies of the same photo pair.
    assert len(body["findings"]) == 3
    assert len(evidence) == 1 and detail["hazard"]["evidence_count"] == 1
    stored = evidence[0]["payload"]
    payload = json.loads(stored) if isinstance(stored, str) else stored
    assert payload["detections"] == 3
    assert payload["boxes"].count(";") == 2
    assert payload["confidence"] == pytest.approx(max(f["confidence"] for f in body["findings"]), abs=1e-4)

    # Compliant people count towards the PPE compliance KPI (ppe.ok observations, no hazards).
    ok = _count(h, select(func.count()).where(ObservationRow.kind == PPE_OK_KIND))
    helmets = sum(1 for d in body["detections"] if d["label"] == "helmet")
    assert 1 <= ok <= helmets

    polled = _json(h.client.get(f"/api/v1/photos/{body['photo_id']}", headers=h.auth(Role.RECTIFIER)))
    assert polled == body


def test_replay_by_content_and_by_idempotency_key_returns_the_same_result(h: ApiHarness) -> None:
    data = NO_HELMET.read_bytes()
    first = _json(upload(h, data))
    again = upload(h, data, name="renamed.jpg")
    assert again.status_code == 200
    assert _json(again) == first
    hazard_id = first["hazards"][0]["hazard_id"]
    detail = _json(h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.auth(Role.INSPECTOR)))
    # The replay adds nothing: still the first upload's one item for its photo (three boxes in it).
    assert len(first["findings"]) == 3 and detail["hazard"]["evidence_count"] == 1

    other = HELMETS_ONLY.read_bytes()
    keyed = upload(h, other, key="phone-42-upload-7")
    assert keyed.status_code == 201
    assert _json(keyed)["hazards"] == []
    replay = upload(h, other, key="phone-42-upload-7")
    assert replay.status_code == 200 and _json(replay) == _json(keyed)
    # The same key for different bytes is a client bug, not a replay.
    clash = upload(h, IMAGES.joinpath("004945.jpg").read_bytes(), key="phone-42-upload-7")
    assert clash.status_code == 409
    assert _count(h, select(func.count()).select_from(PhotoRow)) == 2


def test_idempotency_keys_belong_to_their_uploader(h: ApiHarness) -> None:
    mine = upload(h, HELMETS_ONLY.read_bytes(), key="phone-1")
    assert mine.status_code == 201
    # Another user's client happens to send the same key with its own photo: a new upload of theirs,
    # neither a 409 nor the first inspector's record.
    theirs = upload(h, IMAGES.joinpath("004945.jpg").read_bytes(), key="phone-1", role=Role.SAFETY_ENGINEER)
    assert theirs.status_code == 201
    assert _json(theirs)["photo_id"] != _json(mine)["photo_id"]
    # ... and each one's retry still replays their own record
    again = upload(h, IMAGES.joinpath("004945.jpg").read_bytes(), key="phone-1", role=Role.SAFETY_ENGINEER)
    assert again.status_code == 200 and _json(again)["photo_id"] == _json(theirs)["photo_id"]
    assert _json(upload(h, HELMETS_ONLY.read_bytes(), key="phone-1"))["photo_id"] == _json(mine)["photo_id"]


def test_keyed_retry_of_an_upload_that_intake_normalised_to_a_known_photo_is_a_replay(h: ApiHarness) -> None:
    data = NO_HELMET.read_bytes()
    assert upload(h, data).status_code == 201
    # Trailing bytes are stripped by intake, so this upload is the same photo under different bytes;
    # a retry of it with its key must be answered as a replay, not as a key clash.
    padded = data + b"trailing-bytes-after-the-jpeg-end"
    first = upload(h, padded, key="phone-7-retry")
    retry = upload(h, padded, key="phone-7-retry")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert _json(retry) == _json(first)
    assert _count(h, select(func.count()).select_from(PhotoRow)) == 1


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100))


def _jpeg_with_exif() -> bytes:
    image = Image.open(NO_HELMET).convert("RGB")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: _dms(31.2304), 3: "E", 4: _dms(121.4737)}
    exif[0x8769] = {36867: "2026:03:01 09:30:00", 36881: "+08:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def test_exif_gps_and_time_are_used_and_stripped_from_the_stored_original(h: ApiHarness) -> None:
    body = _json(upload(h, _jpeg_with_exif()))
    assert body["taken_at"] == "2026-03-01T09:30:00+08:00"
    gps = body["gps"]
    assert isinstance(gps, dict)
    assert gps["lat"] == pytest.approx(31.2304, abs=1e-3) and gps["lon"] == pytest.approx(121.4737, abs=1e-3)
    stored = h.client.get(f"/api/v1/objects/{body['original_key']}", headers=h.auth(Role.INSPECTOR)).content
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0
    # Hazards are dated when the photo was taken, not when it arrived.
    hazard_id = body["hazards"][0]["hazard_id"]
    detail = _json(h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.auth(Role.INSPECTOR)))
    assert detail["hazard"]["discovered_at"].startswith("2026-03-01T01:30:00")


def test_browser_gps_wins_over_exif(h: ApiHarness) -> None:
    body = _json(upload(h, _jpeg_with_exif(), lat="30.5", lon="114.3"))
    assert body["gps"] == {"lat": 30.5, "lon": 114.3}


def _truncated() -> bytes:
    return NO_HELMET.read_bytes()[:5000]


@pytest.mark.parametrize(
    ("data", "content_type", "form", "status", "code"),
    [
        (b"", "image/jpeg", {}, 422, "photo_rejected"),
        (b"hello, not a photo", "text/plain", {}, 415, "unsupported_media_type"),
        (b"%PDF-1.7 not an image", "image/jpeg", {}, 422, "photo_rejected"),
        (b"GIF89a" + b"\x00" * 64, "image/gif", {}, 422, "photo_rejected"),
        (None, "image/jpeg", {}, 422, "photo_rejected"),  # truncated JPEG
        (NO_HELMET.read_bytes(), "image/jpeg", {"zone": "   "}, 422, "invalid_input"),
        (NO_HELMET.read_bytes(), "image/jpeg", {"lat": "31.2"}, 422, "invalid_input"),
        (NO_HELMET.read_bytes(), "image/jpeg", {"lat": "91", "lon": "0"}, 422, "invalid_input"),
    ],
    ids=["empty", "text", "pdf", "gif", "truncated", "blank-zone", "lat-only", "lat-range"],
)
def test_bad_uploads_are_refused_and_nothing_is_recorded(
    h: ApiHarness, data: bytes | None, content_type: str, form: dict[str, str], status: int, code: str
) -> None:
    response = upload(h, _truncated() if data is None else data, content_type=content_type, fields=form)
    assert response.status_code == status, response.text
    assert _json(response)["detail"]["error"] == code
    assert _count(h, select(func.count()).select_from(PhotoRow)) == 0
    objects = _objects_root(h)
    assert not objects.exists() or not any(p.is_file() for p in objects.rglob("*"))


def test_missing_zone_or_file_and_wrong_roles(h: ApiHarness) -> None:
    data = NO_HELMET.read_bytes()
    no_zone = h.client.post(
        "/api/v1/photos", files={"file": ("a.jpg", data, "image/jpeg")}, headers=h.auth(Role.INSPECTOR)
    )
    assert no_zone.status_code == 422
    no_file = h.client.post("/api/v1/photos", data={"zone": "z"}, headers=h.auth(Role.INSPECTOR))
    assert no_file.status_code == 422
    assert upload(h, data, role=Role.RECTIFIER).status_code == 403
    unauthenticated = h.client.post(
        "/api/v1/photos", files={"file": ("a.jpg", data, "image/jpeg")}, data={"zone": "z"}
    )
    assert unauthenticated.status_code == 401
    assert h.client.get("/api/v1/photos/" + "0" * 64, headers=h.auth(Role.INSPECTOR)).status_code == 404


def test_oversized_multipart_upload_is_refused_with_413(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, photos=PhotoSettings(max_bytes=20_000))
    with api_harness(settings) as h:
        response = upload(h, NO_HELMET.read_bytes())  # 43 kB
        assert response.status_code == 413
        assert _count(h, select(func.count()).select_from(PhotoRow)) == 0


def test_object_store_down_is_503_and_nothing_is_recorded(tmp_path: Path) -> None:
    blocker = tmp_path / "objects-on-a-file"
    blocker.write_bytes(b"not a folder")
    settings = embedded_settings(tmp_path, objects=LocalObjectStoreSettings(root=blocker))
    with api_harness(settings) as h:
        response = upload(h, NO_HELMET.read_bytes())
        assert response.status_code == 503
        assert _json(response)["detail"] == {
            "error": "object_store_unavailable",
            "message": "object store unavailable, nothing was recorded; retry later",
        }  # the store's own error names where it lives (here: the folder path); it stays in the log
        assert str(blocker) not in response.text
        assert _count(h, select(func.count()).select_from(PhotoRow)) == 0


def test_analysis_failure_keeps_the_original_and_a_replay_retries(tmp_path: Path) -> None:
    broken = embedded_settings(tmp_path, vision=VisionSettings(ppe_model="absent", leak_model="absent2"))
    data = NO_HELMET.read_bytes()
    with api_harness(broken) as h:
        response = upload(h, data)
        assert response.status_code == 201
        failed = _json(response)
        assert failed["status"] == "failed" and "absent" in str(failed["error"])
        assert failed["hazards"] == [] and failed["annotated_key"] is None
        kept = h.client.get(f"/api/v1/objects/{failed['original_key']}", headers=h.auth(Role.INSPECTOR))
        assert kept.status_code == 200 and content_key(kept.content) == failed["photo_id"]

    # Same database and objects, models back: replaying the upload finishes the recorded photo.
    from serving.bootstrap import bootstrap
    from serving.pipelines.photos import PhotoPipeline, PhotoUpload

    container = bootstrap(embedded_settings(tmp_path))
    try:
        done = PhotoPipeline(container).accept(PhotoUpload(data, "again.jpg", "image/jpeg", "tank-farm", "x"))
        assert done.replay and done.photo.photo_id == failed["photo_id"]
        assert done.photo.status.value == "done" and done.photo.attempts == 2
        assert done.photo.analysis is not None and done.photo.analysis.hazards
    finally:
        container.close()


def test_objects_route_refuses_paths_and_unknown_keys_and_supports_etags(h: ApiHarness) -> None:
    auth = h.auth(Role.INSPECTOR)
    assert h.client.get("/api/v1/objects/..%2F..%2Fetc%2Fpasswd", headers=auth).status_code in (404, 422)
    bad = h.client.get("/api/v1/objects/not-a-key", headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"]["error"] == "invalid_key"
    assert h.client.get("/api/v1/objects/" + "a" * 64, headers=auth).status_code == 404
    assert h.client.get("/api/v1/objects/" + "a" * 64).status_code == 401
    body = _json(upload(h, HELMETS_ONLY.read_bytes()))
    url = f"/api/v1/objects/{body['original_key']}"
    first = h.client.get(url, headers=auth)
    assert first.headers["etag"] == f'"{body["original_key"]}"'
    cached = h.client.get(url, headers=auth | {"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""


def test_review_queue_review_and_export(h: ApiHarness) -> None:
    body = _json(upload(h, NO_HELMET.read_bytes()))
    plain = _json(upload(h, HELMETS_ONLY.read_bytes()))
    engineer = h.auth(Role.SAFETY_ENGINEER)
    assert h.client.get("/api/v1/reviews", headers=h.auth(Role.INSPECTOR)).status_code == 403
    queue = h.client.get("/api/v1/reviews", headers=engineer).json()
    assert [q["photo_id"] for q in queue] == [plain["photo_id"], body["photo_id"]]  # newest first
    assert queue[1]["detections"] == body["detections"]

    corrected: list[dict[str, Any]] = [
        {"label": "head", "box": [405.0, 168.0, 430.0, 200.0]},
        {"label": "helmet", "box": [0, 0, 30, 30]},
    ]
    saved = h.client.post(
        f"/api/v1/reviews/{body['photo_id']}",
        json={"detections": corrected, "note": "one head was a helmet"}, headers=engineer,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert [q["photo_id"] for q in h.client.get("/api/v1/reviews", headers=engineer).json()] == [
        plain["photo_id"]
    ]

    exported = h.client.get("/api/v1/reviews/export", headers=engineer).json()
    assert exported == [saved.json()]
    item = exported[0]
    assert (item["photo_id"], item["original_key"], item["reviewed_by"]) == (
        body["photo_id"], body["original_key"], "safety_engineer-user",
    )  # fmt: skip
    assert item["detections"] == [
        {"label": d["label"], "box": [float(v) for v in d["box"]]} for d in corrected
    ]

    outside = [{"label": "head", "box": [400.0, 10.0, 5000.0, 50.0]}]
    assert h.client.post(
        f"/api/v1/reviews/{body['photo_id']}", json={"detections": outside}, headers=engineer
    ).status_code == 422  # fmt: skip
    inverted = [{"label": "head", "box": [50.0, 10.0, 40.0, 50.0]}]
    assert h.client.post(
        f"/api/v1/reviews/{body['photo_id']}", json={"detections": inverted}, headers=engineer
    ).status_code == 422  # fmt: skip
    missing = h.client.post("/api/v1/reviews/" + "b" * 64, json={"detections": []}, headers=engineer)
    assert missing.status_code == 404
    # A confirmed negative: no boxes at all is a valid review.
    negative = h.client.post(
        f"/api/v1/reviews/{plain['photo_id']}", json={"detections": []}, headers=engineer
    )
    assert negative.status_code == 200 and h.client.get("/api/v1/reviews", headers=engineer).json() == []


def test_manual_hazard_with_photo_and_idempotent_retry(h: ApiHarness) -> None:
    data = HELMETS_ONLY.read_bytes()
    form = {"kind": "manual.housekeeping", "zone": "tank-farm", "description": "oil rags by the pump",
            "equipment_id": "P-7", "likelihood": "4", "severity": "4"}  # fmt: skip
    headers = h.auth(Role.INSPECTOR) | {"Idempotency-Key": "manual-1"}
    first = h.client.post(
        "/api/v1/hazards", data=form, files={"file": ("rags.jpg", data, "image/jpeg")}, headers=headers
    )
    assert first.status_code == 201, first.text
    hazard = first.json()
    assert (hazard["kind"], hazard["source_kind"]) == ("manual.housekeeping", "manual")
    assert (hazard["likelihood"], hazard["severity"]) == (4, 4)  # the inspector's grading, not the default
    assert hazard["level"] == grade(4, 4, WorkflowConfig().grading).value
    detail = h.client.get(f"/api/v1/hazards/{hazard['id']}", headers=headers).json()
    [evidence] = detail["evidence"]
    [key] = evidence["object_keys"]
    stored = h.client.get(f"/api/v1/objects/{key}", headers=headers)
    assert stored.status_code == 200
    shape = decode_image(stored.content, source="s", max_pixels=10**8).shape
    assert (shape[1], shape[0]) == Image.open(HELMETS_ONLY).size
    assert evidence["by"] == "inspector-user"

    retry = h.client.post(
        "/api/v1/hazards", data=form, files={"file": ("rags.jpg", data, "image/jpeg")}, headers=headers
    )
    assert retry.status_code == 200 and retry.json()["id"] == hazard["id"]
    assert (
        h.client.get(f"/api/v1/hazards/{hazard['id']}", headers=headers).json()["hazard"]["evidence_count"]
        == 1
    )

    no_photo = h.client.post(
        "/api/v1/hazards", data=form | {"kind": "manual.blocked_exit", "equipment_id": ""},
        headers=h.auth(Role.SAFETY_ENGINEER),
    )  # fmt: skip
    assert no_photo.status_code == 201 and no_photo.json()["id"] != hazard["id"]
    bad_kind = h.client.post(
        "/api/v1/hazards", data=form | {"kind": "Not A Kind"}, headers=h.auth(Role.INSPECTOR)
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"]["error"] == "invalid_input"
    assert h.client.post("/api/v1/hazards", data=form, headers=h.auth(Role.RECTIFIER)).status_code == 403
    text = h.client.post(
        "/api/v1/hazards",
        data=form,
        files={"file": ("a.txt", b"hi", "text/plain")},
        headers=h.auth(Role.INSPECTOR),
    )
    assert text.status_code == 415


def test_a_manual_reports_idempotency_key_belongs_to_its_reporter(h: ApiHarness) -> None:
    """Two people's clients may pick the same key: the second report is its own hazard, not a replay."""
    form = {"kind": "manual.housekeeping", "zone": "tank-farm", "description": "oil rags by the pump"}
    key = {"Idempotency-Key": "round-1"}
    mine = h.client.post("/api/v1/hazards", data=form | {"equipment_id": "P-7"},
                         headers=h.auth(Role.INSPECTOR) | key)  # fmt: skip
    theirs = h.client.post("/api/v1/hazards", data=form | {"equipment_id": "P-9"},
                           headers=h.auth(Role.SAFETY_ENGINEER) | key)  # fmt: skip
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["equipment_id"] == "P-9"
    again = h.client.post("/api/v1/hazards", data=form | {"equipment_id": "P-9"},
                          headers=h.auth(Role.SAFETY_ENGINEER) | key)  # fmt: skip
    assert (again.status_code, again.json()["id"]) == (200, theirs.json()["id"])


def test_openapi_documents_the_photo_routes(h: ApiHarness) -> None:
    spec = h.client.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/photos"]["post"]
    assert {"200", "201", "202", "409", "413", "415", "422", "503"} <= set(post["responses"])
    assert "/api/v1/objects/{key}" in spec["paths"]
    assert {"get"} <= set(spec["paths"]["/api/v1/reviews"]) and "post" in spec["paths"]["/api/v1/hazards"]


def test_photo_id_is_the_sha256_of_the_stored_original(h: ApiHarness) -> None:
    body = _json(upload(h, HELMETS_ONLY.read_bytes(), name="x.jpg"))
    stored = (_objects_root(h) / body["photo_id"][:2] / body["photo_id"]).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == body["photo_id"]


def test_chunked_multipart_upload_over_the_limit_is_refused(tmp_path: Path) -> None:
    # No Content-Length (a generator body is sent chunked): the limit must hold while it streams in.
    settings = embedded_settings(tmp_path, photos=PhotoSettings(max_bytes=20_000))
    data = NO_HELMET.read_bytes()
    head = b'--B\r\nContent-Disposition: form-data; name="zone"\r\n\r\nz\r\n'
    head += b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    head += b"Content-Type: image/jpeg\r\n\r\n"

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]
        yield b"\r\n--B--\r\n"

    with api_harness(settings) as h:
        headers = h.auth(Role.INSPECTOR) | {"Content-Type": "multipart/form-data; boundary=B"}
        response = h.client.post("/api/v1/photos", content=chunks(), headers=headers)
        assert response.status_code == 413
        assert _count(h, select(func.count()).select_from(PhotoRow)) == 0


def test_a_photo_larger_than_the_analysis_size_reports_boxes_in_its_own_pixels(tmp_path: Path) -> None:
    """The 500x375 scene enlarged 4x (2000x1500) is analysed from a 640 px decode; its boxes must still
    land on the same heads in the enlarged photo's pixels: 4x the boxes found in the original."""
    small_image = Image.open(NO_HELMET).convert("RGB")
    out = io.BytesIO()
    small_image.resize((2000, 1500), Image.Resampling.BICUBIC).save(out, "JPEG", quality=95)
    settings = embedded_settings(tmp_path, photos=PhotoSettings(analysis_max_side=640))
    with api_harness(settings) as h:
        small = _json(upload(h, NO_HELMET.read_bytes(), name="small.jpg"))
        big = _json(upload(h, out.getvalue(), name="big.jpg"))
        annotated = h.client.get(f"/api/v1/objects/{big['annotated_key']}", headers=h.auth(Role.REVIEWER))
    assert (big["width"], big["height"]) == (2000, 1500)
    assert decode_image(annotated.content, source="annotated", max_pixels=10**8).shape[:2] == (480, 640)
    small_heads = sorted(f["box"] for f in small["findings"])
    big_heads = sorted(f["box"] for f in big["findings"])
    assert len(big_heads) == len(small_heads) >= 1
    for small_box, big_box in zip(small_heads, big_heads, strict=True):
        # Within 3 original pixels (12 enlarged ones): the detector saw 640 px instead of 500.
        assert big_box == pytest.approx([4 * v for v in small_box], abs=12.0)
