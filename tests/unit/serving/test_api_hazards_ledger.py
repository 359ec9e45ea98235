"""Hazard list filters and order, the ledger (台账) export and the repeat-hazard report over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.unit.serving.hazard_api_support import make_hazard
from workflow.domain.roles import Role


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def test_list_filters_paginates_and_orders_by_fix_deadline(api: ApiHarness) -> None:
    blue = make_hazard(api.container, area="装置区B", severity=1, with_photo=False)  # fix within 30 days
    red = make_hazard(api.container, severity=5, kind="leak.drip", with_photo=False)  # fix within 24 h
    other = make_hazard(api.container, with_photo=False)
    headers = api.auth(Role.INSPECTOR)
    everything = api.client.get("/api/v1/hazards", headers=headers).json()
    assert everything["total"] == 3 and everything["items"][-1]["id"] == blue
    assert (
        everything["items"][0]["fix_by"]
        <= everything["items"][1]["fix_by"]
        <= everything["items"][2]["fix_by"]
    )
    by_area = api.client.get("/api/v1/hazards", params={"area": "装置区B"}, headers=headers).json()
    assert [h["id"] for h in by_area["items"]] == [blue]
    by_kind = api.client.get("/api/v1/hazards", params={"kind": "leak.drip"}, headers=headers).json()
    assert [h["id"] for h in by_kind["items"]] == [red]
    assert by_kind["items"][0]["level"] in ("red", "orange")
    page = api.client.get("/api/v1/hazards", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["offset"] == 1
    api.client.post(f"/api/v1/hazards/{other}/register", headers=headers)
    registered = api.client.get(
        "/api/v1/hazards", params={"state": "registered,closed"}, headers=headers
    ).json()
    assert [h["id"] for h in registered["items"]] == [other]
    assert api.client.get("/api/v1/hazards", params={"overdue": True}, headers=headers).json()["total"] == 0
    assert api.client.get("/api/v1/hazards", params={"state": "nope"}, headers=headers).status_code == 422
    assert api.client.get("/api/v1/hazards", params={"level": "pink"}, headers=headers).status_code == 422
    assert api.client.get("/api/v1/hazards", params={"limit": 0}, headers=headers).status_code == 422


def test_csv_ledger_keeps_chinese_text_for_excel(api: ApiHarness) -> None:
    first = make_hazard(api.container, description="法兰泄漏，需更换垫片", area="罐区A")
    make_hazard(api.container, description='=HYPERLINK("http://x")', area="罐区A")
    response = api.client.get("/api/v1/hazards/export.csv", headers=api.auth(Role.INSPECTOR))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["隐患编号", "隐患类型", "风险等级", "状态"] and "整改期限 (UTC)" in header
    assert len(body) == 2
    row = dict(zip(header, next(r for r in body if r[0] == str(first)), strict=True))
    assert row["描述"] == "法兰泄漏，需更换垫片" and row["区域"] == "罐区A"
    assert row["状态"] == "已发现" and row["是否超期"] == "否" and row["来源"] == "现场照片"
    assert row["隐患类型"] == "未戴安全帽"  # the kind in words, not ppe.no_helmet
    injected = next(r for r in body if r[0] != str(first))
    assert injected[header.index("描述")].startswith("'=")  # stays text, never a formula

    english = api.client.get(
        "/api/v1/hazards/export.csv", params={"lang": "en"}, headers=api.auth(Role.ADMIN)
    )
    en_rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert en_rows[0][:4] == ["id", "kind", "level", "state"] and en_rows[1][3] == "discovered"
    assert en_rows[1][1] == "No helmet"
    filtered = api.client.get(
        "/api/v1/hazards/export.csv", params={"area": "nowhere"}, headers=api.auth(Role.ADMIN)
    )
    assert len(list(csv.reader(io.StringIO(filtered.content.decode("utf-8-sig"))))) == 1


def test_xlsx_ledger(api: ApiHarness) -> None:
    hazard_id = make_hazard(api.container, description="高处作业未系安全带")
    response = api.client.get("/api/v1/hazards/export.xlsx", headers=api.auth(Role.REVIEWER))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "隐患编号" and rows[1][0] == hazard_id and rows[1][8] == "高处作业未系安全带"


def test_repeat_report_lists_recurring_kinds_in_one_area(api: ApiHarness) -> None:
    ids = [
        make_hazard(api.container, equipment_id="", zone=f"zone-{i}", area="罐区C", with_photo=False)
        for i in range(3)
    ]
    make_hazard(api.container, area="罐区D", with_photo=False)
    response = api.client.get("/api/v1/hazards/repeats", headers=api.auth(Role.SAFETY_ENGINEER))
    assert response.status_code == 200
    report = response.json()
    assert len(report) == 1
    assert report[0]["area"] == "罐区C" and report[0]["kind"] == "ppe.no_helmet"
    assert report[0]["hazard_ids"] == ids and report[0]["unresolved"] == 3
    flagged = api.client.get(f"/api/v1/hazards/{ids[2]}", headers=api.auth(Role.INSPECTOR)).json()
    assert flagged["hazard"]["repeat_flag"] is True


def test_ledger_times_are_the_plant_s_local_time_with_the_offset_and_real_dates_in_xlsx(
    tmp_path: Path,
) -> None:
    settings = embedded_settings(tmp_path, plant_timezone="Asia/Shanghai")
    with api_harness(settings) as api:
        hazard_id = make_hazard(api.container, description="夜班巡检")
        detail = api.client.get(f"/api/v1/hazards/{hazard_id}", headers=api.auth(Role.INSPECTOR)).json()
        utc = datetime.fromisoformat(detail["hazard"]["discovered_at"]).replace(microsecond=0)
        shanghai = (utc + timedelta(hours=8)).replace(tzinfo=None)  # China: UTC+8 all year
        text = api.client.get("/api/v1/hazards/export.csv", headers=api.auth(Role.INSPECTOR)).content
        rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
        header = rows[0]
        assert "发现时间 (Asia/Shanghai, UTC+08:00)" in header
        cell = rows[1][header.index("发现时间 (Asia/Shanghai, UTC+08:00)")]
        assert cell == shanghai.isoformat(sep=" ") + "+08:00"
        book = api.client.get("/api/v1/hazards/export.xlsx", headers=api.auth(Role.INSPECTOR)).content
        sheet = load_workbook(io.BytesIO(book)).worksheets[0]
        discovered = sheet.cell(row=2, column=10)
        assert isinstance(discovered.value, datetime) and discovered.value == shanghai
        assert discovered.number_format == "yyyy-mm-dd hh:mm:ss"
        assert sheet.cell(row=2, column=18).value in ("", None)  # not closed yet


def test_an_unknown_plant_time_zone_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        embedded_settings(tmp_path, plant_timezone="Mars/Olympus")
