"""An acknowledged photo ends analysed: transient failures are retried at once, and what still failed is
retried by the sweep once the outage is over (issue 12, 10). The failures are injected into the analyzer;
the database, object store and model are the real embedded ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.photos import PhotoPipeline
from serving.settings import PhotoSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.errors import ConcurrencyConflict
from workflow.domain.roles import Role
from workflow.services.photos import get_photo

NO_HELMET = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    settings = embedded_settings(tmp_path, photos=PhotoSettings(retry_after_s=0.0, max_attempts=5))
    with api_harness(settings) as harness:
        yield harness


def _flaky(api: ApiHarness, monkeypatch: pytest.MonkeyPatch, failures: list[Exception]) -> None:
    real = api.container.analyzer.analyze

    def analyze(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(api.container.analyzer, "analyze", analyze)


def _upload(api: ApiHarness) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/photos",
        files={"file": ("a.jpg", NO_HELMET.read_bytes(), "image/jpeg")},
        data={"zone": "tank-farm"},
        headers=api.auth(Role.INSPECTOR),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_write_conflict_during_analysis_is_retried_within_the_request(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _flaky(api, monkeypatch, [ConcurrencyConflict("audit sequence taken"), ConcurrencyConflict("again")])
    body = _upload(api)
    assert body["status"] == "done" and [h["outcome"] for h in body["hazards"]] == ["created"]
    assert {f["kind"] for f in body["findings"]} == {"ppe.no_helmet"}
    assert get_photo(api.container.workflow, body["photo_id"]).attempts == 3


def test_a_photo_failed_by_an_outage_is_analysed_by_the_sweep_once_it_is_over(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _flaky(api, monkeypatch, [ObjectStoreUnavailableError("down")] * 3)
    body = _upload(api)
    assert body["status"] == "failed" and body["hazards"] == []  # acknowledged, not yet analysed
    pipeline = PhotoPipeline(api.container)
    assert pipeline.retry_failed() == 1  # the outage is over: the sweep dispatches it again
    photo = get_photo(api.container.workflow, body["photo_id"])
    assert photo.status.value == "done" and photo.attempts == 4
    assert pipeline.retry_failed() == 0  # nothing left to retry
    shown = api.client.get(f"/api/v1/photos/{body['photo_id']}", headers=api.auth(Role.INSPECTOR)).json()
    assert shown["status"] == "done" and [h["outcome"] for h in shown["hazards"]] == ["created"]
    assert {f["kind"] for f in shown["findings"]} == {"ppe.no_helmet"}


def test_a_photo_that_keeps_failing_stops_being_retried_and_stays_visible(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _flaky(api, monkeypatch, [ObjectStoreUnavailableError("down")] * 100)
    body = _upload(api)  # attempts 1-3
    pipeline = PhotoPipeline(api.container)
    assert pipeline.retry_failed() == 1  # 3 attempts < 5: one more round of 3 (attempts 4-6)
    assert pipeline.retry_failed() == 0
    photo = get_photo(api.container.workflow, body["photo_id"])
    assert photo.status.value == "failed" and photo.attempts == 6 and "down" in (photo.error or "")
