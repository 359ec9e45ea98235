"""Read-side queries for the API: filtered, paginated hazard lists (overdue first), details, repeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from workflow.domain.errors import InvalidInput
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import HazardState
from workflow.domain.repeats import RepeatReportRow, is_repeat
from workflow.persistence.orm import HazardRow
from workflow.services.context import WorkflowContext
from workflow.services.views import EventView, EvidenceView, HazardDetail, HazardView

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class HazardFilter:
    states: tuple[HazardState, ...] = ()
    levels: tuple[RiskLevel, ...] = ()
    area: str | None = None
    zone: str | None = None
    kind: str | None = None
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class HazardPage:
    items: tuple[HazardView, ...]
    total: int
    offset: int
    limit: int


def list_hazards(
    ctx: WorkflowContext, flt: HazardFilter, *, offset: int = 0, limit: int = 50, with_total: bool = True
) -> HazardPage:
    """Ordered by fix deadline (the most overdue first), then id. ``with_total=False`` skips the count."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit must be 1–{MAX_PAGE} and offset ≥ 0")
    conds: list[ColumnElement[bool]] = []
    if flt.states:
        conds.append(HazardRow.state.in_([s.value for s in flt.states]))
    if flt.levels:
        conds.append(HazardRow.level.in_([lv.value for lv in flt.levels]))
    if flt.area:
        conds.append(HazardRow.area == flt.area)
    if flt.zone:
        conds.append(HazardRow.zone == flt.zone)
    if flt.kind:
        conds.append(HazardRow.kind == flt.kind)
    if flt.overdue_only:
        conds.append(HazardRow.fix_by < ctx.clock.now())
        conds.append(HazardRow.state.in_([s.value for s in HazardState if s not in _DONE]))
    with ctx.uow() as uow:
        stmt = (
            select(HazardRow)
            .where(*conds)
            .order_by(HazardRow.fix_by, HazardRow.id)
            .offset(offset)
            .limit(limit)
        )
        items = tuple(HazardView.of(r) for r in uow.session.scalars(stmt))
        total = (
            int(uow.session.scalar(select(func.count()).select_from(HazardRow).where(*conds)) or 0)
            if with_total
            else -1
        )
        return HazardPage(items, total, offset, limit)


_DONE = frozenset({HazardState.RECTIFIED, HazardState.REVIEWED, HazardState.CLOSED})


def hazard_detail(ctx: WorkflowContext, hazard_id: int) -> HazardDetail:
    with ctx.uow() as uow:
        row = uow.repo.hazard(hazard_id)
        return HazardDetail(
            HazardView.of(row),
            tuple(EvidenceView.of(e) for e in uow.repo.evidence(hazard_id)),
            tuple(EventView.of(e) for e in uow.repo.events(hazard_id)),
        )


def repeat_report(ctx: WorkflowContext, at: datetime | None = None) -> list[RepeatReportRow]:
    """Kinds at one equipment/area meeting the repeat rule now: root-cause candidates."""
    now = at or ctx.clock.now()
    policy = ctx.config.repeats
    with ctx.uow() as uow:
        stmt = select(HazardRow).where(HazardRow.discovered_at >= now - policy.window).order_by(HazardRow.id)
        groups: dict[str, list[HazardRow]] = {}
        for row in uow.session.scalars(stmt):
            groups.setdefault(row.repeat_key, []).append(row)
        report = []
        for rows in groups.values():
            unresolved = sum(1 for r in rows if r.state not in {s.value for s in _DONE})
            if is_repeat(unresolved, len(rows), policy):
                first = rows[0]
                report.append(
                    RepeatReportRow(
                        first.kind,
                        first.area,
                        first.equipment_id,
                        unresolved,
                        len(rows),
                        tuple(r.id for r in rows),
                    )
                )
        return sorted(report, key=lambda r: (-r.in_window, r.kind))


def hazards_by_kind(ctx: WorkflowContext) -> dict[str, int]:
    """Hazards ever opened, per kind (the metrics endpoint's counter)."""
    with ctx.uow() as uow:
        rows = uow.session.execute(select(HazardRow.kind, func.count()).group_by(HazardRow.kind))
        return {kind: int(n) for kind, n in rows}
