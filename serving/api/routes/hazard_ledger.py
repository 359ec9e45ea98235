"""The hazard ledger (隐患台账) as CSV (UTF-8 with BOM, so Excel shows Chinese text) or XLSX.

Times are the plant's local time (``HAZARDEYE_PLANT_TIMEZONE``), its UTC offset named in the headers: CSV
cells carry the offset too (ISO 8601), XLSX cells are real date-times a spreadsheet can sort and filter.
Kinds are translated; cells a spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from serving.kind_labels import kind_label
from workflow.domain.grading import overdue_by
from workflow.domain.lifecycle import UNANSWERED_STATES, UNFIXED_STATES
from workflow.services.context import WorkflowContext
from workflow.services.queries import MAX_PAGE, HazardFilter, list_hazards
from workflow.services.views import HazardView

HEADERS = {
    "zh": (
        "隐患编号", "隐患类型", "风险等级", "状态", "区域", "作业区", "设备", "来源", "描述",
        "发现时间", "响应期限", "整改期限", "是否超期", "重复隐患", "督办级别",
        "证据数", "重开次数", "关闭时间",
    ),
    "en": (
        "id", "kind", "level", "state", "area", "zone", "equipment", "source", "description",
        "discovered_at", "respond_by", "fix_by", "overdue", "repeat", "escalation_level",
        "evidence_count", "reopen_count", "closed_at",
    ),
}  # fmt: skip
_TIME_COLUMNS = frozenset({9, 10, 11, 17})
STATES_ZH = {
    "discovered": "已发现",
    "registered": "已登记",
    "dispatched": "已派发",
    "in_rectification": "整改中",
    "rectified": "已整改",
    "reviewed": "已复核",
    "closed": "已闭环",
}
LEVELS_ZH = {"red": "重大(红)", "orange": "较大(橙)", "yellow": "一般(黄)", "blue": "低(蓝)"}
SOURCES_ZH = {"camera": "摄像头", "photo": "现场照片", "sensor": "传感器", "manual": "人工上报"}
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_overdue(v: HazardView, now: datetime) -> bool:
    """Past the response deadline (nobody answered yet) or the fix deadline (not fixed yet)."""
    late = overdue_by(
        now,
        v.respond_by,
        v.fix_by,
        unanswered=v.state in UNANSWERED_STATES,
        unfixed=v.state in UNFIXED_STATES,
    )
    return late.total_seconds() > 0


Cell = str | int | datetime


def ledger_rows(
    ctx: WorkflowContext, flt: HazardFilter, lang: str, zone: tzinfo = UTC
) -> Iterator[tuple[Cell, ...]]:
    """Header row (times labelled with the plant's UTC offset), then every matching hazard (overdue
    first), read page by page; times are aware datetimes in ``zone``, or "" when unset."""
    now = ctx.clock.now()
    yes, no = YES_NO[lang]
    zh = lang == "zh"
    offset_label = _zone_label(zone, now)
    yield tuple(f"{h} ({offset_label})" if i in _TIME_COLUMNS else h for i, h in enumerate(HEADERS[lang]))
    offset = 0
    while True:
        page = list_hazards(ctx, flt, offset=offset, limit=MAX_PAGE, with_total=False)
        for v in page.items:
            yield (
                v.id,
                _text(kind_label(v.kind, lang)),
                LEVELS_ZH[v.level.value] if zh else v.level.value,
                STATES_ZH[v.state.value] if zh else v.state.value,
                _text(v.area),
                _text(v.zone),
                _text(v.equipment_id or ""),
                SOURCES_ZH[v.source_kind.value] if zh else v.source_kind.value,
                _text(v.description or ""),
                _local(v.discovered_at, zone),
                _local(v.respond_by, zone),
                _local(v.fix_by, zone),
                yes if is_overdue(v, now) else no,
                yes if v.repeat_flag else no,
                v.escalation_level,
                v.evidence_count,
                v.reopen_count,
                _local(v.closed_at, zone),
            )
        if len(page.items) < MAX_PAGE:
            return
        offset += MAX_PAGE


def ledger_csv(ctx: WorkflowContext, flt: HazardFilter, lang: str, zone: tzinfo = UTC) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in ledger_rows(ctx, flt, lang, zone):
        writer.writerow([c.isoformat(sep=" ") if isinstance(c, datetime) else c for c in row])
    return out.getvalue().encode("utf-8-sig")


def ledger_xlsx(ctx: WorkflowContext, flt: HazardFilter, lang: str, zone: tzinfo = UTC) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("隐患台账" if lang == "zh" else "hazard ledger")
    for row in ledger_rows(ctx, flt, lang, zone):
        sheet.append([_date_cell(sheet, c) if isinstance(c, datetime) else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _date_cell(sheet: Any, at: datetime) -> WriteOnlyCell:
    # Spreadsheets have no time zones: the plant's wall-clock time, its offset is in the header.
    cell = WriteOnlyCell(sheet, value=at.replace(tzinfo=None))
    cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell


def _local(at: datetime | None, zone: tzinfo) -> datetime | str:
    return at.astimezone(zone).replace(microsecond=0) if at else ""


def _zone_label(zone: tzinfo, now: datetime) -> str:
    """ "UTC", or "Asia/Shanghai, UTC+08:00" (the offset today: a zone with daylight saving changes it)."""
    name = getattr(zone, "key", None)
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    if name in (None, "UTC") and not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    text = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{name}, {text}" if name else text


def _text(value: str) -> str:
    # CSV/formula injection: a description like "=HYPERLINK(...)" must stay text in Excel.
    return "'" + value if value.startswith(_FORMULA_START) else value
