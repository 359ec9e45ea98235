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
