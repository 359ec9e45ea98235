"""Alert messages that carry no fields of their own to word them from (permit presence, expiry,
escalation) have Chinese words in the UI (``ALERTS_ZH`` in serving/web/static/i18n.js): the UI matches the
server's English text with patterns, so a reworded message must fail here, not go untranslated."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workflow.domain.permits import (
    PermitStatus,
    PermitType,
    PermitView,
    PresenceCheck,
    PresenceVerdict,
    check_presence,
)

I18N = Path(__file__).resolve().parents[3] / "serving" / "web" / "static" / "i18n.js"
AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _patterns() -> list[re.Pattern[str]]:
    block = I18N.read_text().split("const ALERTS_ZH = [", 1)[1].split("];", 1)[0]
    return [re.compile(p.replace("\\/", "/")) for p in re.findall(r"\[/(\^.*?\$)/,", block)]


def _permit(permit_id: int, min_people: int, watcher: bool, max_people: int | None) -> PermitView:
    return PermitView(
        permit_id, PermitType.HOT_WORK, "z1", AT - timedelta(hours=1), AT + timedelta(hours=1),
        PermitStatus.ACTIVE, min_people, watcher, max_people,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("people", "permits", "verdict"),
    [
        (1, (_permit(7, 2, True, None),), PresenceVerdict.UNDERSTAFFED),
        (2, (_permit(8, 3, False, None),), PresenceVerdict.UNDERSTAFFED),
        (5, (_permit(9, 2, True, 3),), PresenceVerdict.OVERSTAFFED),
        (9, (_permit(10, 2, True, 3), _permit(11, 2, True, 4)), PresenceVerdict.OVERSTAFFED),
    ],
)
def test_the_presence_alerts_the_check_raises_are_worded(
    people: int, permits: tuple[PermitView, ...], verdict: PresenceVerdict
) -> None:
    result = check_presence(PresenceCheck("z1", AT, people), frozenset({PermitType.HOT_WORK}), permits)
    assert result.verdict is verdict
    assert any(p.match(result.reason) for p in _patterns()), result.reason


@pytest.mark.parametrize(
    "message",
    ["permit 12 expired and was suspended", "hazard 31 overdue: escalated to level 2 (plant manager)"],
)
def test_the_sweep_alerts_are_worded(message: str) -> None:
    assert any(p.match(message) for p in _patterns())


def test_an_unknown_message_is_not_claimed() -> None:
    assert not any(p.match("permit 12 was changed by hand") for p in _patterns())
