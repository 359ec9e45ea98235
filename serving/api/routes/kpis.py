"""``/api/v1/kpis``: daily KPIs per area (closure within deadline, overdue, repeats, PPE compliance)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from serving.api.auth import current_actor
from serving.api.errors import error_responses as errors
from serving.api.params import PlausibleDate
from serving.bootstrap import Container
from serving.kpi_sheet import layout, render_pdf, render_png
from workflow.domain.kpis import summarize_kpis
from workflow.domain.roles import Actor
from workflow.services.kpis import compute_kpis

DEFAULT_DAYS = 30


class KpiOut(BaseModel):
    day: date
    area: str
    opened: int
    closed: int
    closed_within_deadline: int
    overdue: int
    mean_time_to_close_h: float | None
    repeat_rate: float | None
    ppe_compliance_rate: float | None
    ppe_compliant: int  # people seen with the PPE their zone demands (photos and camera frames)
    ppe_checked: int  # people seen where PPE is demanded: pool these to combine rows, never average rates


router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])


FromQ = Annotated[
    PlausibleDate | None, Query(alias="from", description="first UTC day (default: 29 days before `to`)")
]
ToQ = Annotated[PlausibleDate | None, Query(alias="to", description="last UTC day (default: today)")]


def _range(container: Container, day_from: date | None, day_to: date | None) -> tuple[date, date]:
    last = day_to or container.workflow.clock.now().date()
    return day_from or last - timedelta(days=DEFAULT_DAYS - 1), last


@router.get("", response_model=list[KpiOut], responses=errors(422))
def kpis(
    request: Request,
    day_from: FromQ = None,
    day_to: ToQ = None,
    area: str | None = None,
    _actor: Actor = Depends(current_actor),
) -> list[KpiOut]:
    """One row per (day, area) with any activity, ordered by day then area."""
    container: Container = request.app.state.container
    first, last = _range(container, day_from, day_to)
    return [
        KpiOut(
            day=r.day,
            area=r.area,
            opened=r.opened,
            closed=r.closed,
            closed_within_deadline=r.closed_within_deadline,
            overdue=r.overdue,
            mean_time_to_close_h=r.mean_hours_to_close,
            repeat_rate=r.repeat_rate,
            ppe_compliance_rate=r.ppe_compliance_rate,
            ppe_compliant=r.ppe_compliant,
            ppe_checked=r.ppe_checked,
        )
        for r in compute_kpis(container.workflow, first, last, area)
    ]


_SHEET_TYPES = {"png": "image/png", "pdf": "application/pdf"}


@router.get(
    "/sheet.{fmt}",
    response_class=Response,
    responses={**errors(422), 200: {"content": {t: {} for t in _SHEET_TYPES.values()},
                                    "description": "The KPI sheet, to print or forward"}},
)  # fmt: skip
def kpi_sheet(
    request: Request,
    fmt: Annotated[str, Path(pattern="^(png|pdf)$")],
    day_from: FromQ = None,
    day_to: ToQ = None,
    area: str | None = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    _actor: Actor = Depends(current_actor),
) -> Response:
    """The range's headline figures (pooled as on the KPI page) and one line per day, as PNG or PDF."""
    container: Container = request.app.state.container
    first, last = _range(container, day_from, day_to)
    rows = compute_kpis(container.workflow, first, last, area)
    sheet = layout(summarize_kpis(rows, first, last), rows, lang, area)
    body = render_png(sheet) if fmt == "png" else render_pdf(sheet)
    name = f"hazardeye-kpis-{first.isoformat()}-{last.isoformat()}.{fmt}"
    return Response(
        body, media_type=_SHEET_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
