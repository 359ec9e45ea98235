from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.errors import InvalidInput, Unauthorised
from workflow.domain.permits import (
    PermitRequest,
    PermitStatus,
    PermitType,
    PermitView,
    PresenceCheck,
    PresenceVerdict,
    check_approval,
    check_presence,
)
from workflow.domain.roles import Actor, Role

T = datetime(2026, 1, 1, 9, tzinfo=UTC)
HOT = PermitView(7, PermitType.HOT_WORK, "z1", T, T + timedelta(hours=8), PermitStatus.ACTIVE, 2, True)
ZONE_KINDS = frozenset({PermitType.HOT_WORK})


def test_approval_needs_two_distinct_people_not_the_requester() -> None:
    eng1, eng2 = Actor(2, "a", Role.SAFETY_ENGINEER), Actor(3, "b", Role.ADMIN)
    with pytest.raises(Unauthorised, match="requester"):
        check_approval(Actor(1, "r", Role.SAFETY_ENGINEER), 1, (), PermitStatus.PENDING)
    first = check_approval(eng1, 1, (), PermitStatus.PENDING)
    with pytest.raises(Unauthorised, match="twice"):
        check_approval(eng1, 1, first, PermitStatus.PENDING)
    assert check_approval(eng2, 1, first, PermitStatus.PENDING) == (2, 3)
    with pytest.raises(Unauthorised):
        check_approval(Actor(4, "i", Role.INSPECTOR), 1, (), PermitStatus.PENDING)
    with pytest.raises(InvalidInput):
        check_approval(eng2, 1, (), PermitStatus.SUSPENDED)


@pytest.mark.parametrize(
    ("people", "at", "work", "zone_kinds", "verdict"),
    [
        (0, T, None, ZONE_KINDS, PresenceVerdict.NOBODY_PRESENT),
        (2, T, None, frozenset(), PresenceVerdict.NOT_REQUIRED),
        (2, T, None, ZONE_KINDS, PresenceVerdict.PERMITTED),
        (3, T + timedelta(hours=7), None, ZONE_KINDS, PresenceVerdict.PERMITTED),
        (1, T, None, ZONE_KINDS, PresenceVerdict.UNDERSTAFFED),
        (2, T + timedelta(hours=8), None, ZONE_KINDS, PresenceVerdict.NO_VALID_PERMIT),
        (2, T - timedelta(seconds=1), None, ZONE_KINDS, PresenceVerdict.NO_VALID_PERMIT),
        (2, T, PermitType.CONFINED_SPACE, ZONE_KINDS, PresenceVerdict.NO_VALID_PERMIT),
        (2, T, PermitType.HOT_WORK, frozenset(), PresenceVerdict.PERMITTED),
    ],
)
def test_presence(
    people: int,
    at: datetime,
    work: PermitType | None,
    zone_kinds: frozenset[PermitType],
    verdict: PresenceVerdict,
) -> None:
    result = check_presence(PresenceCheck("z1", at, people, work), zone_kinds, (HOT,))
    assert result.verdict is verdict, result.reason


def test_suspended_permit_does_not_cover() -> None:
    suspended = PermitView(
        7, PermitType.HOT_WORK, "z1", T, T + timedelta(hours=8), PermitStatus.SUSPENDED, 2, True
    )
    assert (
        check_presence(PresenceCheck("z1", T, 2), ZONE_KINDS, (suspended,)).verdict
        is PresenceVerdict.NO_VALID_PERMIT
    )


def test_bad_requests() -> None:
    with pytest.raises(InvalidInput):
        PermitRequest(PermitType.HOT_WORK, "z1", T, T)
    with pytest.raises(InvalidInput):
        PermitRequest(
            PermitType.HOT_WORK, "z1", T, T + timedelta(hours=1), min_people=1, watcher_required=True
        )
    with pytest.raises(InvalidInput):
        PresenceCheck("z1", T, -1)
    with pytest.raises(InvalidInput, match="'welding'"):
        PermitRequest("welding", "z1", T, T + timedelta(hours=1))  # type: ignore[arg-type]
