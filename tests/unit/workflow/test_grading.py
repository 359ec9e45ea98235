from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.errors import InvalidInput
from workflow.domain.grading import (
    GradingPolicy,
    RiskLevel,
    deadlines_for,
    escalation_target,
    grade,
    overdue_by,
)

P = GradingPolicy()


@pytest.mark.parametrize(
    ("likelihood", "severity", "level"),
    [
        (1, 1, RiskLevel.BLUE),
        (2, 2, RiskLevel.BLUE),
        (1, 5, RiskLevel.YELLOW),
        (3, 3, RiskLevel.YELLOW),
        (2, 5, RiskLevel.ORANGE),
        (4, 4, RiskLevel.ORANGE),
        (4, 5, RiskLevel.RED),
        (5, 5, RiskLevel.RED),
    ],
)
def test_matrix(likelihood: int, severity: int, level: RiskLevel) -> None:
    assert grade(likelihood, severity, P) is level


def test_matrix_is_monotonic() -> None:
    for lk in range(1, 6):
        for sv in range(1, 5):
            assert grade(lk, sv, P).rank <= grade(lk, sv + 1, P).rank
            assert grade(sv, lk, P).rank <= grade(sv + 1, lk, P).rank


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, True])
def test_matrix_rejects_out_of_range(bad: object) -> None:
    with pytest.raises(InvalidInput):
        grade(bad, 3, P)  # type: ignore[arg-type]


def test_red_deadlines_from_the_seeds() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    d = deadlines_for(RiskLevel.RED, t, GradingPolicy())
    assert (d.notify_by - t, d.respond_by - t, d.fix_by - t) == (
        timedelta(minutes=15),
        timedelta(hours=2),
        timedelta(hours=24),
    )
    # Less severe levels never get tighter deadlines.
    levels = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE]
    fixes = [deadlines_for(lv, t, P).fix_by for lv in levels]
    assert fixes == sorted(fixes)


def test_escalation_one_level_per_interval_capped() -> None:
    assert escalation_target(timedelta(hours=1, minutes=59), P) == 0
    assert escalation_target(timedelta(hours=2), P) == 1
    assert escalation_target(timedelta(hours=5), P) == 2
    assert escalation_target(timedelta(days=10), P) == P.max_escalation


def test_overdue_uses_the_applicable_deadline() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    respond, fix = t, t + timedelta(hours=10)
    now = t + timedelta(hours=3)
    assert overdue_by(now, respond, fix, unanswered=True, unfixed=True) == timedelta(hours=3)
    assert overdue_by(now, respond, fix, unanswered=False, unfixed=True) == timedelta(0)


def test_every_levels_deadlines_written_out() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    h = timedelta(hours=1)
    expected = {
        RiskLevel.RED: (timedelta(minutes=15), 2 * h, 24 * h),
        RiskLevel.ORANGE: (h, 8 * h, 72 * h),
        RiskLevel.YELLOW: (4 * h, 24 * h, 7 * 24 * h),
        RiskLevel.BLUE: (24 * h, 72 * h, 30 * 24 * h),
    }
    policy = GradingPolicy()  # built here: a module-level policy is made before a mutant is switched on
    for level, (notify, respond, fix) in expected.items():
        d = deadlines_for(level, t, policy)
        assert (d.notify_by, d.respond_by, d.fix_by) == (t + notify, t + respond, t + fix)


def test_ranks_and_the_chain_length() -> None:
    assert [lv.rank for lv in (RiskLevel.BLUE, RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED)] == [
        0,
        1,
        2,
        3,
    ]
    assert P.max_escalation == 3


@pytest.mark.parametrize(
    ("late", "level"),
    [(timedelta(0), 0), (timedelta(hours=3, minutes=59), 1), (timedelta(hours=4), 2), (timedelta(hours=6), 3),
     (timedelta(hours=8), 3)],
)  # fmt: skip
def test_escalation_steps_at_whole_intervals(late: timedelta, level: int) -> None:
    assert escalation_target(late, P) == level


def test_overdue_takes_the_later_miss_and_is_never_negative() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    respond, fix = t, t + timedelta(hours=1)
    now = t + timedelta(hours=4)
    assert overdue_by(now, respond, fix, unanswered=True, unfixed=False) == timedelta(hours=4)
    assert overdue_by(now, respond, fix, unanswered=False, unfixed=True) == timedelta(hours=3)
    assert overdue_by(now, respond, fix, unanswered=True, unfixed=True) == timedelta(hours=4)
    assert overdue_by(t, t + timedelta(hours=2), fix, unanswered=True, unfixed=True) == timedelta(0)
    assert overdue_by(now, respond, fix, unanswered=False, unfixed=False) == timedelta(0)


@pytest.mark.parametrize(("bad", "text"), [(0, "0"), (6, "6"), (2.5, "2.5"), (True, "True")])
def test_a_bad_grade_says_which_number_is_wrong(bad: object, text: str) -> None:
    with pytest.raises(InvalidInput, match=f"^likelihood must be an integer 1–5, got {text}$"):
        grade(bad, 3, P)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"^severity must be an integer 1–5, got {text}$"):
        grade(3, bad, P)  # type: ignore[arg-type]
