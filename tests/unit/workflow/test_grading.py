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
    d = deadlines_for(RiskLevel.RED, t, P)
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
