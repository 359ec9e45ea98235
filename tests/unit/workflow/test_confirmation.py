"""Temporal confirmation of camera findings: k of the last n snapshots, pure rule and stored window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.confirmation import ConfirmationRule, Sighting, confirmed, sighting_key, window_ending_at
from workflow.domain.errors import InvalidInput
from workflow.services.confirmations import confirm_sighting
from workflow.services.context import WorkflowContext

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HEAD = sighting_key("ppe.no_helmet", "tank-farm")
LEAK = sighting_key("leak.drip", "tank-farm")


def _at(i: int) -> datetime:
    return T0 + timedelta(seconds=5 * i)


def _s(i: int, *keys: str) -> Sighting:
    return Sighting(_at(i), frozenset(keys))


def test_rule_bounds() -> None:
    assert ConfirmationRule() == ConfirmationRule(2, 3)
    ConfirmationRule(1, 1)
    ConfirmationRule(3, 3)
    for k, n in ((0, 3), (4, 3), (2, 1)):
        with pytest.raises(InvalidInput):
            ConfirmationRule(k, n)


def test_window_is_the_n_snapshots_up_to_the_current_one_and_a_retry_replaces_its_frame() -> None:
    history = [_s(3), _s(1), _s(2), _s(4), _s(0)]
    assert [s.at for s in window_ending_at(history, _s(3, HEAD), 3)] == [_at(1), _at(2), _at(3)]
    # the stored copy of frame 3 is not counted beside the current one
    assert window_ending_at([_s(3, HEAD)], _s(3, HEAD), 3) == (_s(3, HEAD),)
    assert window_ending_at(history, _s(9), 1) == (_s(9),)


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ([], set()),  # first sighting: 1 of 1 is not 2
        ([_s(2)], set()),  # seen now only
        ([_s(2, HEAD)], {HEAD}),  # seen in two consecutive frames
        ([_s(1, HEAD), _s(2)], {HEAD}),  # a missed frame in between: still 2 of 3
        ([_s(0, HEAD), _s(1), _s(2)], set()),  # seen 3 frames ago: outside the window of 3
        ([_s(1, HEAD, LEAK), _s(2, LEAK)], {HEAD}),  # LEAK is not in the current frame: never confirmed now
    ],
)
def test_two_of_three(earlier: list[Sighting], expected: set[str]) -> None:
    current = _s(3, HEAD)
    window = window_ending_at(earlier, current, 3)
    assert confirmed(window, current, ConfirmationRule(2, 3)) == expected


def test_one_of_one_confirms_everything_at_once() -> None:
    current = _s(0, HEAD, LEAK)
    assert confirmed(window_ending_at([], current, 1), current, ConfirmationRule(1, 1)) == {HEAD, LEAK}


def test_stored_window_confirms_across_calls_per_camera_and_survives_retries(
    sqlite_ctx: WorkflowContext,
) -> None:
    rule = ConfirmationRule(2, 3)
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(0, HEAD), rule) == set()
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(0, HEAD), rule) == set()  # a retried task: same frame
    assert confirm_sighting(sqlite_ctx, "cam-b", _s(1, HEAD), rule) == set()  # another camera's sighting
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(1, HEAD), rule) == {HEAD}
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(2), rule) == set()
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(3, HEAD), rule) == {HEAD}  # frames 1 and 3 of 1..3
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(4), rule) == set()
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(5), rule) == set()
    assert confirm_sighting(sqlite_ctx, "cam-a", _s(6, HEAD), rule) == set()  # last seen in frame 3
    # a late frame (out of order) is judged against the frames before it
    assert confirm_sighting(sqlite_ctx, "cam-b", _s(0, HEAD), rule) == set()
    assert confirm_sighting(sqlite_ctx, "cam-b", _s(2, HEAD), rule) == {HEAD}


def test_old_sightings_are_pruned(sqlite_ctx: WorkflowContext) -> None:
    from sqlalchemy import func, select

    from workflow.persistence.orm import CameraSightingRow

    rule = ConfirmationRule(1, 2)
    for i in range(30):
        confirm_sighting(sqlite_ctx, "cam-a", _s(i, HEAD), rule)
    with sqlite_ctx.uow() as uow:
        kept = uow.session.scalar(select(func.count()).select_from(CameraSightingRow))
    assert kept == 9  # 4 windows of 2 before the newest, plus the newest


def test_a_bad_rule_names_its_numbers() -> None:
    with pytest.raises(InvalidInput, match=r"^confirmation needs 1 <= k <= n, got k=3, n=2$"):
        ConfirmationRule(3, 2)


def test_a_window_of_two_is_the_previous_snapshot_and_the_current_one() -> None:
    history = [_s(1, HEAD), _s(3), _s(2, LEAK)]
    assert window_ending_at(history, _s(4, HEAD), 2) == (_s(3), _s(4, HEAD))
    assert window_ending_at(history, _s(4, HEAD), 1) == (_s(4, HEAD),)
