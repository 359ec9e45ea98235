"""Audit log + chain verification, daily KPIs and the model list / hot reload over HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import update

from serving.settings import VisionSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import make_hazard
from workflow.domain.roles import Role
from workflow.persistence.orm import AuditRow

REPO_MODELS = Path(__file__).resolve().parents[3] / "models"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def test_audit_lists_newest_first_and_verify_catches_an_edit(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container, with_photo=False)
    api.client.post(f"/api/v1/hazards/{hazard_id}/register", headers=api.auth(Role.INSPECTOR))
    page = api.client.get("/api/v1/audit", params={"limit": 1}, headers=api.auth(Role.REVIEWER)).json()
    assert page["total"] >= 2 and len(page["items"]) == 1
    newest = page["items"][0]
    assert newest["action"] == "hazard.register" and newest["entity_id"] == str(hazard_id)
    assert newest["actor"] == "inspector-user" and newest["seq"] == page["total"]
    second = api.client.get("/api/v1/audit", params={"limit": 1, "offset": 1}, headers=api.auth(Role.ADMIN))
    assert second.json()["items"][0]["hash"] == newest["prev_hash"]

    ok = api.client.get("/api/v1/audit/verify", headers=api.auth(Role.ADMIN)).json()
    assert ok == {"ok": True, "checked": page["total"], "first_bad": None, "message": ok["message"]}
    # Tamper with the stored log behind the application's back (as a rogue DBA would).
    with api.container.engine.begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 1).values(actor="mallory"))
    bad = api.client.get("/api/v1/audit/verify", headers=api.auth(Role.ADMIN)).json()
    assert bad["ok"] is False and bad["first_bad"] == 1 and "modified" in bad["message"]


def test_kpis_count_todays_hazards_per_area(api: ApiHarness) -> None:
    make_hazard(api.container, area="罐区A", with_photo=False)
    make_hazard(api.container, area="罐区A", with_photo=False)
    make_hazard(api.container, area="装置区B", with_photo=False)
    today = datetime.now(UTC).date()
    headers = api.auth(Role.INSPECTOR)
    rows = api.client.get("/api/v1/kpis", headers=headers).json()
    opened = {(r["day"], r["area"]): r["opened"] for r in rows}
    assert opened == {(today.isoformat(), "罐区A"): 2, (today.isoformat(), "装置区B"): 1}
    assert set(rows[0]) >= {"closed_within_deadline", "mean_time_to_close_h", "ppe_compliance_rate"}
    one_area = api.client.get(
        "/api/v1/kpis",
        params={"from": today.isoformat(), "to": today.isoformat(), "area": "装置区B"},
        headers=headers,
    ).json()
    assert [(r["area"], r["opened"]) for r in one_area] == [("装置区B", 1)]
    yesterday = (today - timedelta(days=1)).isoformat()
    assert api.client.get("/api/v1/kpis", params={"to": yesterday}, headers=headers).json() == []
    backwards = api.client.get(
        "/api/v1/kpis", params={"from": today.isoformat(), "to": yesterday}, headers=headers
    )
    assert backwards.status_code == 422
    assert api.client.get("/api/v1/kpis", params={"from": "not-a-day"}, headers=headers).status_code == 422


def test_models_list_shows_the_shipped_ppe_card(api: ApiHarness) -> None:
    models = api.client.get("/api/v1/models", headers=api.auth(Role.INSPECTOR)).json()
    ppe = next(m for m in models if m["ref"] == "ppe@2")
    card = json.loads((REPO_MODELS / "ppe" / "2" / "card.json").read_text())
    assert ppe["current"] is True and ppe["classes"] == card["classes"] == [
        "head",
        "helmet",
        "person",
        "vest",
    ]
    assert next(m for m in models if m["ref"] == "ppe@1")["current"] is False  # kept for rollback
    # The metrics shown are those of the file served here (INT8 on a VNNI / AMX CPU, else FP32).
    served = "card.int8.json" if ppe["precision"] == "int8" else "card.json"
    card = json.loads((REPO_MODELS / "ppe" / "2" / served).read_text())
    assert ppe["precision"] in ppe["precisions"] and ppe["precision_reason"]
    assert ppe["metrics"]["map50"] == card["metrics"]["map50"]
    assert ppe["metrics"]["per_class"]["head"]["ap50"] == card["metrics"]["per_class"]["head"]["ap50"]
    assert ppe["trained_on"] == card["training"]["dataset"] and ppe["licence"] == card["licence"]


@pytest.mark.parametrize("pinned", ["fp32", "int8"])
def test_the_precision_setting_reaches_the_registry_and_the_model_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned: Literal["fp32", "int8"]
) -> None:
    from serving.bootstrap import build_model_registry
    from serving.settings import Settings

    monkeypatch.setenv("HAZARDEYE_VISION__PRECISION", pinned)
    assert Settings().vision.precision == pinned
    monkeypatch.delenv("HAZARDEYE_VISION__PRECISION")
    assert Settings().vision.precision == "auto"
    assert build_model_registry(VisionSettings(precision=pinned)).precision == pinned
    with api_harness(embedded_settings(tmp_path, vision=VisionSettings(precision=pinned))) as api:
        models = api.client.get("/api/v1/models", headers=api.auth(Role.INSPECTOR)).json()
    ppe1 = next(m for m in models if m["ref"] == "ppe@1")
    assert ppe1["precision"] == "fp32" and ppe1["precisions"] == ["fp32"]  # ppe@1 has no INT8 variant
    ppe2 = next(m for m in models if m["ref"] == "ppe@2")
    assert ppe2["precisions"] == ["fp32", "int8"] and ppe2["precision"] == pinned


def test_the_engine_setting_reaches_the_detectors_of_the_service_and_the_cli(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from serving.bootstrap import build_model_registry
    from serving.settings import Settings

    assert Settings().vision.engine == "onnxruntime"  # the faster one on this project's CPU
    monkeypatch.setenv("HAZARDEYE_VISION__ENGINE", "openvino")
    settings = Settings().vision
    _, detector = build_model_registry(settings).detector("ppe")
    assert detector.engine.name == "openvino" and detector.providers == ["OpenVINO CPU"]
    _, batched = build_model_registry(settings, batch_size=2).detector("ppe")  # as `hazardeye verify`
    assert (batched.engine.name, batched.options.batch_size) == ("openvino", 2)


def test_reload_picks_up_a_newly_installed_model(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    settings = embedded_settings(tmp_path, vision=VisionSettings(models_dir=models_dir))
    with api_harness(settings) as api:
        assert api.client.get("/api/v1/models", headers=api.auth(Role.ADMIN)).json() == []
        shutil.copytree(REPO_MODELS / "ppe" / "1", models_dir / "ppe" / "1")
        refused = api.client.post("/api/v1/models/reload", headers=api.auth(Role.INSPECTOR))
        assert refused.status_code == 403
        reloaded = api.client.post("/api/v1/models/reload", headers=api.auth(Role.SAFETY_ENGINEER))
        assert reloaded.status_code == 200
        assert [m["ref"] for m in reloaded.json()["models"]] == ["ppe@1"]
        assert [m["ref"] for m in api.client.get("/api/v1/models", headers=api.auth(Role.ADMIN)).json()] == [
            "ppe@1"
        ]
        (models_dir / "ppe" / "2").mkdir()
        (models_dir / "ppe" / "2" / "card.json").write_text("{not json")
        problems = api.client.post("/api/v1/models/reload", headers=api.auth(Role.ADMIN)).json()["problems"]
        assert len(problems) == 1 and "unreadable card" in problems[0]["message"]
