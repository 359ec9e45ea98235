"""``/api/v1/kpis``: daily KPIs per area (closure within deadline, overdue, repeats, PPE compliance)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from serving.api.auth import current_actor
from serving.api.errors import error_responses as errors
from serving.api.params import PlausibleDate
from serving.bootstrap import Container
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


@router.get("", response_model=list[KpiOut], responses=errors(422))
def kpis(
    request: Request,
    day_from: Annotated[
        PlausibleDate | None, Query(alias="from", description="first UTC day (default: 29 days before `to`)")
    ] = None,
    day_to: Annotated[
        PlausibleDate | None, Query(alias="to", description="last UTC day (default: today)")
    ] = None,
    area: str | None = None,
    _actor: Actor = Depends(current_actor),
) -> list[KpiOut]:
    """One row per (day, area) with any activity, ordered by day then area."""
    container: Container = request.app.state.container
    ctx = container.workflow
    last = day_to or ctx.clock.now().date()
    first = day_from or last - timedelta(days=DEFAULT_DAYS - 1)
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
        for r in compute_kpis(ctx, first, last, area)
    ]
