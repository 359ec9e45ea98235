from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workflow.domain.kpis import HazardFact, PpeFact, compute_kpi_rows

D = date(2026, 3, 2)
T = datetime(2026, 3, 2, 8, tzinfo=UTC)
H = timedelta(hours=1)


def test_rows_per_day_and_area() -> None:
    facts = [
        HazardFact("A", T, T + 24 * H, T + 2 * H, T + 4 * H, False),  # closed same day, within deadline
        HazardFact("A", T, T + 2 * H, None, None, True),  # overdue on day D
        HazardFact("B", T + 30 * H, T + 54 * H, None, None, False),  # opened next day
    ]
    ppe = [PpeFact("A", D, 9, 1)]
    rows = compute_kpi_rows(facts, ppe, D, D + timedelta(days=1), T + 100 * H)
    by = {(r.day, r.area): r for r in rows}
    a = by[(D, "A")]
    assert (a.opened, a.closed, a.closed_within_deadline, a.overdue) == (2, 1, 1, 1)
    assert a.mean_hours_to_close == pytest.approx(4.0)
    assert a.repeat_rate == pytest.approx(0.5)
    assert a.ppe_compliance_rate == pytest.approx(0.9)
    b = by[(D + timedelta(days=1), "B")]
    assert (b.opened, b.closed, b.repeat_rate, b.ppe_compliance_rate) == (1, 0, 0.0, None)
    assert (D + timedelta(days=2), "B") not in by  # outside the range


def test_not_yet_due_is_not_overdue() -> None:
    facts = [HazardFact("A", T, T + 2 * H, None, None, False)]
    rows = compute_kpi_rows(facts, [], D, D, T + H)
    assert rows[0].overdue == 0
