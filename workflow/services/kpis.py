"""KPI use case: gathers facts in one read transaction and applies the pure computation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from workflow.domain.errors import InvalidInput
from workflow.domain.kpis import HazardFact, KpiRow, PpeFact, compute_kpi_rows
from workflow.domain.observations import PPE_OK_KIND, SourceKind
from workflow.persistence.orm import HazardRow, ObservationRow, PpeTallyRow
from workflow.services.context import WorkflowContext

MAX_DAYS = 366


def compute_kpis(ctx: WorkflowContext, day_from: date, day_to: date, area: str | None = None) -> list[KpiRow]:
    if day_to < day_from or (day_to - day_from).days > MAX_DAYS:
        raise InvalidInput(f"day range must be ordered and at most {MAX_DAYS} days")
    start = datetime.combine(day_from, time(), UTC)
    end = datetime.combine(day_to + timedelta(days=1), time(), UTC)
    with ctx.uow() as uow:
        h = HazardRow
        stmt = select(h.area, h.discovered_at, h.fix_by, h.rectified_at, h.closed_at, h.repeat_flag).where(
            or_(
                h.discovered_at.between(start, end),
                h.closed_at.between(start, end),
                h.fix_by.between(start, end),
            )
        )
        if area:
            stmt = stmt.where(h.area == area)
        facts = [HazardFact(*r) for r in uow.session.execute(stmt)]
        # Photos: one observation per person (ppe.ok) or violation. Camera frames: the per-day tallies
        # (their ppe.* observations are one per zone and frame, not per person, so not counted here).
        o = ObservationRow
        ppe_stmt = select(o.area, o.observed_at, o.kind).where(
            o.kind.like("ppe.%"),
            o.source_kind != SourceKind.CAMERA.value,
            o.observed_at >= start,
            o.observed_at < end,
        )
        if area:
            ppe_stmt = ppe_stmt.where(o.area == area)
        counts: dict[tuple[str, date], list[int]] = {}
        for r_area, at, kind in uow.session.execute(ppe_stmt):
            c = counts.setdefault((r_area, at.date()), [0, 0])
            c[0 if kind == PPE_OK_KIND else 1] += 1
        tallies = list(
            uow.session.execute(
                select(
                    PpeTallyRow.day, PpeTallyRow.zone, PpeTallyRow.compliant, PpeTallyRow.violations
                ).where(PpeTallyRow.day >= day_from, PpeTallyRow.day <= day_to)
            )
        )
        areas = uow.repo.zone_areas({zone for _, zone, _, _ in tallies})
        for day, zone, compliant, violations in tallies:
            zone_area = areas.get(zone, zone)  # as a camera hazard's area: the zone's, else its name
            if area and zone_area != area:
                continue
            c = counts.setdefault((zone_area, day), [0, 0])
            c[0] += compliant
            c[1] += violations
        ppe = [PpeFact(a, d, c[0], c[1]) for (a, d), c in counts.items()]
    return compute_kpi_rows(facts, ppe, day_from, day_to, ctx.clock.now())
