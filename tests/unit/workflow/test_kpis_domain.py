from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workflow.domain.kpis import HazardFact, KpiRow, PpeFact, compute_kpi_rows, summarize_kpis

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


def test_several_facts_of_one_day_and_area_add_up() -> None:
    facts = [
        HazardFact("A", T, T + 5 * H, T + H, T + 2 * H, True),  # closed 2 h after, within its deadline
        HazardFact("A", T + H, T + 3 * H, T + 4 * H, T + 7 * H, True),  # rectified late, closed after 6 h
        HazardFact("A", T + 2 * H, T + 4 * H, None, None, False),  # never rectified: overdue at T + 4 h
    ]
    ppe = [PpeFact("A", D, 3, 1), PpeFact("A", D, 5, 1), PpeFact("B", D, 0, 2)]
    rows = compute_kpi_rows(facts, ppe, D, D, T + 10 * H)
    assert [(r.day, r.area) for r in rows] == [(D, "A"), (D, "B")]
    a, b = rows
    assert (a.opened, a.closed, a.closed_within_deadline, a.overdue) == (3, 2, 1, 2)
    assert a.mean_hours_to_close == pytest.approx(4.0)  # (2 + 6) / 2
    assert a.repeat_rate == pytest.approx(2 / 3)
    assert (a.ppe_compliant, a.ppe_checked, a.ppe_compliance_rate) == (8, 10, pytest.approx(0.8))
    assert (b.opened, b.closed, b.overdue, b.ppe_compliant, b.ppe_checked, b.ppe_compliance_rate) == (
        0, 0, 0, 0, 2, 0.0,
    )  # fmt: skip
    assert (b.mean_hours_to_close, b.repeat_rate) == (None, None)


def test_overdue_boundaries() -> None:
    """Due exactly now counts; rectified exactly at the deadline is on time; rectified after it is late."""
    facts = [
        HazardFact("A", T, T + 2 * H, None, None, False),
        HazardFact("A", T, T + 2 * H, T + 2 * H, None, False),
        HazardFact("A", T, T + 2 * H, T + 2 * H + timedelta(seconds=1), None, False),
    ]
    assert compute_kpi_rows(facts, [], D, D, T + 2 * H)[0].overdue == 2
    closed_on_the_deadline = [HazardFact("A", T, T + 2 * H, T + H, T + 2 * H, False)]
    assert compute_kpi_rows(closed_on_the_deadline, [], D, D, T + 3 * H)[0].closed_within_deadline == 1


def test_a_day_with_only_ppe_or_only_overdue_still_has_a_row() -> None:
    only_ppe = compute_kpi_rows([], [PpeFact("C", D, 4, 0)], D, D, T)
    assert [(r.area, r.opened, r.ppe_checked, r.ppe_compliance_rate) for r in only_ppe] == [("C", 0, 4, 1.0)]
    opened_before = [HazardFact("A", T - 48 * H, T + H, None, None, False)]
    only_overdue = compute_kpi_rows(opened_before, [], D, D, T + 5 * H)
    assert [(r.area, r.opened, r.overdue) for r in only_overdue] == [("A", 0, 1)]


def test_the_summary_adds_counts_and_weights_rates_by_their_own_base() -> None:
    rows = [
        KpiRow(D, "A", 4, 2, 1, 1, 3.0, 0.5, 0.5, 5, 10),
        KpiRow(D, "B", 1, 1, 1, 0, 9.0, 1.0, None, 0, 0),
        KpiRow(D + timedelta(days=1), "A", 0, 0, 0, 2, None, None, 1.0, 3, 3),
    ]
    summary = summarize_kpis(rows, D, D + timedelta(days=1))
    assert (summary.day_from, summary.day_to) == (D, D + timedelta(days=1))
    assert (summary.opened, summary.closed, summary.closed_within_deadline) == (5, 3, 2)
    assert summary.overdue_last_day == 2  # only the range's last day
    assert summary.mean_hours_to_close == pytest.approx((3.0 * 2 + 9.0 * 1) / 3)  # weighted by closures
    assert summary.repeat_rate == pytest.approx((0.5 * 4 + 1.0 * 1) / 5)  # weighted by openings
    assert (summary.ppe_compliant, summary.ppe_checked) == (8, 13)
    assert summary.closure_rate == pytest.approx(3 / 5)
    assert summary.closed_within_rate == pytest.approx(2 / 3)
    assert summary.ppe_compliance_rate == pytest.approx(8 / 13)


def test_an_empty_summary_has_no_rates() -> None:
    summary = summarize_kpis([], D, D)
    assert (summary.opened, summary.closed, summary.mean_hours_to_close, summary.repeat_rate) == (
        0,
        0,
        None,
        None,
    )
    assert (summary.closure_rate, summary.closed_within_rate, summary.ppe_compliance_rate) == (
        None,
        None,
        None,
    )


def test_as_many_violations_as_compliant_people_is_half_compliance() -> None:
    [row] = compute_kpi_rows([], [PpeFact("C", D, 3, 3)], D, D, T)
    assert (row.ppe_compliant, row.ppe_checked, row.ppe_compliance_rate) == (3, 6, 0.5)
