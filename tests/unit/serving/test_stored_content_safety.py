"""Stored content is served inert: every upload path re-encodes through the intake, objects are typed by
their bytes, and responses carry nosniff, a Content-Security-Policy and X-Frame-Options (issue 12, 1-2).

The attack this pins: a valid JPEG that also carries HTML, uploaded as an after photo, was served back as
``text/html`` and its script ran in the app's origin, where the UI keeps the API key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from serving.api.security_headers import OBJECT_POLICY, UI_POLICY
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import make_hazard
from tests.unit.serving.test_api_hazards import to_rectification
from workflow.domain.roles import Role

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"
SCRIPT = b"<html><body><script>fetch('/api/v1/me')</script></body></html>"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def polyglot() -> bytes:
    """A decodable JPEG with camera EXIF (maker, GPS) and an HTML document after its end marker."""
    image = Image.open(FIXTURE).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "EvilCam"
    exif[0x8825] = {1: "N", 3: "E"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue() + SCRIPT


def _served(api: ApiHarness, key: str) -> tuple[bytes, dict[str, str]]:
    response = api.client.get(f"/api/v1/objects/{key}", headers=api.auth(Role.INSPECTOR))
    assert response.status_code == 200
    return response.content, dict(response.headers)


def _assert_inert_jpeg(api: ApiHarness, key: str) -> None:
    data, headers = _served(api, key)
    assert headers["content-type"] == "image/jpeg"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == OBJECT_POLICY and "sandbox" in OBJECT_POLICY
    assert headers["x-frame-options"] == "DENY"
    assert b"<script" not in data and b"EvilCam" not in data  # re-encoded: no trailer, no EXIF
    assert len(Image.open(io.BytesIO(data)).getexif()) == 0


@pytest.mark.parametrize("declared", ["text/html", "application/javascript"])
def test_every_upload_path_refuses_a_declared_non_image(api: ApiHarness, declared: str) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    files = {"file": ("x.html", polyglot(), declared)}
    auth_i, auth_r = api.auth(Role.INSPECTOR), api.auth(Role.RECTIFIER)
    photo = api.client.post("/api/v1/photos", files=files, data={"zone": "z"}, headers=auth_i)
    manual = api.client.post(
        "/api/v1/hazards", files=files, data={"zone": "z", "kind": "ppe.no_helmet", "description": "d"},
        headers=auth_i,
    )  # fmt: skip
    after = api.client.post(f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=auth_r)
    assert [photo.status_code, manual.status_code, after.status_code] == [415, 415, 415]


def test_a_polyglot_declared_as_a_jpeg_is_stored_re_encoded_and_served_inert(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container)
    to_rectification(api, hazard_id)
    files = {"file": ("after.jpg", polyglot(), "image/jpeg")}
    after = api.client.post(
        f"/api/v1/hazards/{hazard_id}/rectify", files=files, headers=api.auth(Role.RECTIFIER)
    )
    assert after.status_code == 200, after.text
    detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(Role.INSPECTOR)).json()
    after_keys = [k for e in detail["evidence"] if e["kind"] == "after_photo" for k in e["object_keys"]]
    assert len(after_keys) == 1
    _assert_inert_jpeg(api, after_keys[0])

    photo = api.client.post(
        "/api/v1/photos", files=files, data={"zone": "z"}, headers=api.auth(Role.INSPECTOR)
    ).json()
    _assert_inert_jpeg(api, photo["original_key"])


def test_an_object_stored_as_html_is_served_as_an_opaque_attachment(api: ApiHarness) -> None:
    key = api.container.objects.put(SCRIPT, content_type="text/html").key  # e.g. written by an old version
    data, headers = _served(api, key)
    assert data == SCRIPT
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"] == "attachment"
    assert headers["x-content-type-options"] == "nosniff"


def test_the_ui_and_refusals_carry_the_policy(api: ApiHarness) -> None:
    page = api.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == UI_POLICY
    assert (
        "script-src 'self'" in UI_POLICY
        and "unsafe-inline" not in UI_POLICY.split("script-src")[1].split(";")[0]
    )
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    refused = api.client.get("/api/v1/hazards")
    assert refused.status_code == 401 and refused.headers["x-content-type-options"] == "nosniff"


def test_no_docs_page_loads_scripts_from_a_cdn_and_the_schema_stays(api: ApiHarness) -> None:
    assert api.client.get("/docs").status_code == 404 and api.client.get("/redoc").status_code == 404
    schema = api.client.get("/openapi.json")
    assert schema.status_code == 200 and "/api/v1/hazards/{hazard_id}/rectify" in schema.json()["paths"]
    page = api.client.get("/").text
    assert "cdn" not in page.lower() and "https://" not in page
