"""Input a database cannot store or the domain cannot compute with is a 422, never a 500 (issue 12, 11).

PostgreSQL refuses NUL characters in text that SQLite stores; dates near year 1 or 9999 overflow the
deadline arithmetic. Both profiles' databases are real: the loopback PostgreSQL and a SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.settings import DatabaseSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.support.postgres import temporary_database
from workflow.domain.roles import Role

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiHarness]:
    if request.param == "sqlite":
        with api_harness(embedded_settings(tmp_path)) as harness:
            yield harness
        return
    with (
        temporary_database() as url,
        api_harness(embedded_settings(tmp_path, database=DatabaseSettings(url=url))) as harness,
    ):
        yield harness


def _detail(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    assert isinstance(body, dict)
    detail: dict[str, str] = body["detail"]
    return detail


def test_nul_characters_are_refused(api: ApiHarness) -> None:
    auth = api.auth(Role.INSPECTOR)
    photo = api.client.post(
        "/api/v1/photos", files={"file": ("a.jpg", FIXTURE.read_bytes(), "image/jpeg")},
        data={"zone": "tank\x00farm"}, headers=auth,
    )  # fmt: skip
    manual = api.client.post(
        "/api/v1/hazards", data={"zone": "z", "kind": "ppe.no_helmet", "description": "leak\x00here"},
        headers=auth,
    )  # fmt: skip
    listing = api.client.get("/api/v1/hazards", params={"area": "north\x00"}, headers=auth)
    statuses = [photo.status_code, manual.status_code, listing.status_code]
    # SQLite stores NUL, PostgreSQL cannot: either way nothing answers 500
    assert all(s in (200, 201, 422) for s in statuses), statuses
    if "postgresql" in str(api.container.settings.database.url):
        assert statuses == [422, 422, 422]
        assert _detail(listing)["error"] == "invalid_input" and "NUL" in _detail(listing)["message"]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_extreme_dates_are_refused(api: ApiHarness, when: str) -> None:
    permit = api.client.post(
        "/api/v1/permits",
        json={"type": "hot_work", "zone": "z", "valid_from": "2026-12-01T08:00:00Z", "valid_to": when,
              "min_people": 2},
        headers=api.auth(Role.INSPECTOR),
    )  # fmt: skip
    assert permit.status_code == 422 and "valid_to" in _detail(permit)["message"]
    kpis = api.client.get("/api/v1/kpis", params={"from": when[:10]}, headers=api.auth(Role.INSPECTOR))
    assert kpis.status_code == 422
    sensor = {"zone": "tank-farm", "unit": "ppm", "thresholds": [1.0, 3.0], "hysteresis": 0.2}
    assert (
        api.client.put("/api/v1/sensors/cl2", json=sensor, headers=api.auth(Role.SAFETY_ENGINEER)).status_code
        == 200
    )
    reading = api.client.post(
        "/api/v1/sensors/cl2/readings",
        json={"value": 0.5, "at": when},
        headers=api.auth(Role.SAFETY_ENGINEER),
    )
    assert reading.status_code == 422 and "at" in _detail(reading)["message"]
