"""The repeat rule at its thresholds: ≥ 3 unresolved, or ≥ 5 in the window (counts include the new one)."""

from __future__ import annotations

import pytest

from workflow.domain.repeats import RepeatPolicy, is_repeat


@pytest.mark.parametrize(
    ("unresolved", "in_window", "repeat"),
    [(1, 1, False), (2, 4, False), (3, 1, True), (1, 5, True), (2, 5, True), (3, 5, True)],
)
def test_repeat_thresholds(unresolved: int, in_window: int, repeat: bool) -> None:
    assert is_repeat(unresolved, in_window, RepeatPolicy()) is repeat
