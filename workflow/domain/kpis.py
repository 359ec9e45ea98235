"""Daily KPIs per area, computed from plain facts (pure: the persistence layer supplies the facts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class HazardFact:
    area: str
    discovered_at: datetime
    fix_by: datetime
    rectified_at: datetime | None
    closed_at: datetime | None
    repeat_flag: bool


@dataclass(frozen=True, slots=True)
class PpeFact:
    area: str
    day: date
    compliant: int  # ppe.ok observations
    violations: int  # other ppe.* observations


@dataclass(frozen=True, slots=True)
class KpiRow:
    day: date
    area: str
    opened: int
    closed: int
    closed_within_deadline: int
    overdue: int  # fix deadline fell on this day and the hazard was not rectified by then
    mean_hours_to_close: float | None
    repeat_rate: float | None  # repeat-flagged share of hazards opened that day
    ppe_compliance_rate: float | None  # ppe_compliant / ppe_checked: people, not an average of areas
    ppe_compliant: int = 0  # people seen with the PPE their zone demands (photos and camera frames)
    ppe_checked: int = 0  # people seen where PPE is demanded, compliant or not


def compute_kpi_rows(
    hazards: list[HazardFact], ppe: list[PpeFact], day_from: date, day_to: date, now: datetime
) -> list[KpiRow]:
    """Rows for every (day, area) with any activity, ordered by day then area. Days are UTC days."""
    opened: dict[tuple[date, str], int] = defaultdict(int)
    repeats: dict[tuple[date, str], int] = defaultdict(int)
    closed: dict[tuple[date, str], list[HazardFact]] = defaultdict(list)
    overdue: dict[tuple[date, str], int] = defaultdict(int)
    ppe_counts: dict[tuple[date, str], tuple[int, int]] = {}

    def in_range(d: date) -> bool:
        return day_from <= d <= day_to

    for h in hazards:
        if in_range(d := h.discovered_at.date()):
            opened[(d, h.area)] += 1
            repeats[(d, h.area)] += int(h.repeat_flag)
        if h.closed_at is not None and in_range(d := h.closed_at.date()):
            closed[(d, h.area)].append(h)
        late = h.rectified_at is None or h.rectified_at > h.fix_by
        if h.fix_by <= now and late and in_range(d := h.fix_by.date()):
            overdue[(d, h.area)] += 1
    for p in ppe:
        if in_range(p.day):
            c, v = ppe_counts.get((p.day, p.area), (0, 0))
            ppe_counts[(p.day, p.area)] = (c + p.compliant, v + p.violations)

    keys = sorted(set(opened) | set(closed) | set(overdue) | set(ppe_counts))
    rows = []
    for key in keys:
        done = closed.get(key, [])
        hours = [((h.closed_at or h.discovered_at) - h.discovered_at) / timedelta(hours=1) for h in done]
        compliant, violations = ppe_counts.get(key, (0, 0))
        rows.append(
            KpiRow(
                day=key[0],
                area=key[1],
                opened=opened.get(key, 0),
                closed=len(done),
                closed_within_deadline=sum(
                    1 for h in done if h.closed_at is not None and h.closed_at <= h.fix_by
                ),
                overdue=overdue.get(key, 0),
                mean_hours_to_close=sum(hours) / len(hours) if hours else None,
                repeat_rate=repeats[key] / opened[key] if opened.get(key) else None,
                ppe_compliance_rate=compliant / (compliant + violations) if compliant + violations else None,
                ppe_compliant=compliant,
                ppe_checked=compliant + violations,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class KpiSummary:
    """A range's headline figures, combined the way the KPI page combines them: counts add up, rates are
    pooled over what they are a rate of (never an average of the areas' or days' rates)."""

    day_from: date
    day_to: date
    opened: int
    closed: int
    closed_within_deadline: int
    overdue_last_day: int  # overdue on the range's last day
    mean_hours_to_close: float | None  # over hazards closed
    repeat_rate: float | None  # over hazards opened
    ppe_compliant: int
    ppe_checked: int

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.opened if self.opened else None

    @property
    def closed_within_rate(self) -> float | None:
        return self.closed_within_deadline / self.closed if self.closed else None

    @property
    def ppe_compliance_rate(self) -> float | None:
        return self.ppe_compliant / self.ppe_checked if self.ppe_checked else None


def summarize_kpis(rows: list[KpiRow], day_from: date, day_to: date) -> KpiSummary:
    closed = sum(r.closed for r in rows)
    opened = sum(r.opened for r in rows)
    hours = [(r.mean_hours_to_close, r.closed) for r in rows if r.mean_hours_to_close is not None]
    repeats = [(r.repeat_rate, r.opened) for r in rows if r.repeat_rate is not None]
    return KpiSummary(
        day_from=day_from,
        day_to=day_to,
        opened=opened,
        closed=closed,
        closed_within_deadline=sum(r.closed_within_deadline for r in rows),
        overdue_last_day=sum(r.overdue for r in rows if r.day == day_to),
        mean_hours_to_close=_weighted(hours),
        repeat_rate=_weighted(repeats),
        ppe_compliant=sum(r.ppe_compliant for r in rows),
        ppe_checked=sum(r.ppe_checked for r in rows),
    )


def _weighted(pairs: list[tuple[float, int]]) -> float | None:
    weight = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / weight if weight else None
