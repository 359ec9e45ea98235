"""The daily KPI sheet as PDF and PNG, read back the way a person would: pdftotext for the figures,
pdftoppm for the printed page (issue 13, 8)."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.support.workflow_seeds import seed_ppe_people
from workflow.domain.roles import Role


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        seed_ppe_people(harness.container.workflow)  # 2 hazards opened, PPE 10 of 12 people
        yield harness


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    (tmp / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", "-layout", str(tmp / "sheet.pdf"), str(tmp / "sheet.txt")], check=True)
    return " ".join((tmp / "sheet.txt").read_text().split())


@pytest.fixture(autouse=True)
def _poppler() -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("poppler-utils missing: run scripts/system-packages")


def test_the_pdf_sheet_carries_the_pooled_figures_as_text_in_both_languages(
    api: ApiHarness, tmp_path: Path
) -> None:
    en = api.client.get(
        "/api/v1/kpis/sheet.pdf", params={"lang": "en"}, headers=api.auth(Role.SAFETY_ENGINEER)
    )
    assert en.status_code == 200 and en.headers["content-type"] == "application/pdf"
    assert en.content.startswith(b"%PDF")
    text = _pdftotext(en.content, tmp_path)
    assert "Daily safety KPIs" in text
    assert "PPE compliance (all people seen) 83.3% (10/12 people)" in text
    assert "Hazards opened 2" in text and "Hazards closed 0" in text and "Closure rate 0.0%" in text
    zh = api.client.get("/api/v1/kpis/sheet.pdf", headers=api.auth(Role.SAFETY_ENGINEER))
    zh_text = _pdftotext(zh.content, tmp_path)
    assert "每日安全指标" in zh_text and "83.3% (10/12 人次)" in zh_text and "新增隐患 2" in zh_text


def test_the_printed_page_and_the_png_show_the_sheet(api: ApiHarness, tmp_path: Path) -> None:
    pdf = api.client.get("/api/v1/kpis/sheet.pdf", headers=api.auth(Role.REVIEWER)).content
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(tmp_path / "sheet.pdf"),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    page = np.asarray(Image.open(tmp_path / "page.png").convert("L"))
    assert page.shape[0] > page.shape[1]  # A4 portrait
    assert (page < 128).mean() > 0.002  # ink on the page, not a blank sheet
    png = api.client.get("/api/v1/kpis/sheet.png", params={"lang": "en"}, headers=api.auth(Role.REVIEWER))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    picture = np.asarray(Image.open(io.BytesIO(png.content)).convert("L"))
    assert picture.shape[1] == 1240 and (picture < 128).mean() > 0.002


def test_a_sheet_in_another_format_is_refused(api: ApiHarness) -> None:
    assert api.client.get("/api/v1/kpis/sheet.gif", headers=api.auth(Role.REVIEWER)).status_code == 422
