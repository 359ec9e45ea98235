"""The hazard ledger (隐患台账) as CSV (UTF-8 with BOM, so Excel shows Chinese text) or XLSX.

Times are UTC wall-clock text; cells a spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from openpyxl import Workbook

from workflow.domain.grading import overdue_by
from workflow.domain.lifecycle import UNANSWERED_STATES, UNFIXED_STATES
from workflow.services.context import WorkflowContext
from workflow.services.queries import MAX_PAGE, HazardFilter, list_hazards
from workflow.services.views import HazardView

HEADERS = {
    "zh": (
        "隐患编号", "隐患类型", "风险等级", "状态", "区域", "作业区", "设备", "来源", "描述",
        "发现时间(UTC)", "响应期限(UTC)", "整改期限(UTC)", "是否超期", "重复隐患", "督办级别",
        "证据数", "重开次数", "关闭时间(UTC)",
    ),
    "en": (
        "id", "kind", "level", "state", "area", "zone", "equipment", "source", "description",
        "discovered_at (UTC)", "respond_by (UTC)", "fix_by (UTC)", "overdue", "repeat", "escalation_level",
        "evidence_count", "reopen_count", "closed_at (UTC)",
    ),
}  # fmt: skip
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


def ledger_rows(ctx: WorkflowContext, flt: HazardFilter, lang: str) -> Iterator[tuple[str | int, ...]]:
    """Header row, then every matching hazard (overdue first), read page by page."""
    now = ctx.clock.now()
    yes, no = YES_NO[lang]
    zh = lang == "zh"
    yield HEADERS[lang]
    offset = 0
    while True:
        page = list_hazards(ctx, flt, offset=offset, limit=MAX_PAGE, with_total=False)
        for v in page.items:
            yield (
                v.id,
                _text(v.kind),
                LEVELS_ZH[v.level.value] if zh else v.level.value,
                STATES_ZH[v.state.value] if zh else v.state.value,
                _text(v.area),
                _text(v.zone),
                _text(v.equipment_id or ""),
                SOURCES_ZH[v.source_kind.value] if zh else v.source_kind.value,
                _text(v.description or ""),
                _time(v.discovered_at),
                _time(v.respond_by),
                _time(v.fix_by),
                yes if is_overdue(v, now) else no,
                yes if v.repeat_flag else no,
                v.escalation_level,
                v.evidence_count,
                v.reopen_count,
                _time(v.closed_at),
            )
        if len(page.items) < MAX_PAGE:
            return
        offset += MAX_PAGE


def ledger_csv(ctx: WorkflowContext, flt: HazardFilter, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(ledger_rows(ctx, flt, lang))
    return out.getvalue().encode("utf-8-sig")


def ledger_xlsx(ctx: WorkflowContext, flt: HazardFilter, lang: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("隐患台账" if lang == "zh" else "hazard ledger")
    for row in ledger_rows(ctx, flt, lang):
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _text(value: str) -> str:
    # CSV/formula injection: a description like "=HYPERLINK(...)" must stay text in Excel.
    return "'" + value if value.startswith(_FORMULA_START) else value
