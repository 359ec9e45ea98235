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


def _crew(permit_id: int, min_people: int, max_people: int | None, hours: int = 8) -> PermitView:
    return PermitView(
        permit_id, PermitType.HOT_WORK, "z1", T, T + timedelta(hours=hours), PermitStatus.ACTIVE,
        min_people, True, max_people,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("people", "permits", "verdict"),
    [
        (3, (_crew(1, 2, 3),), PresenceVerdict.PERMITTED),  # exactly the crew
        (4, (_crew(1, 2, 3),), PresenceVerdict.OVERSTAFFED),  # one more than the permit names
        (5, (_crew(1, 2, 3), _crew(2, 2, 2)), PresenceVerdict.PERMITTED),  # two crews: 3 + 2
        (6, (_crew(1, 2, 3), _crew(2, 2, 2)), PresenceVerdict.OVERSTAFFED),
        (9, (_crew(1, 2, 3), _crew(2, 2, None)), PresenceVerdict.PERMITTED),  # one permit sets no limit
        (1, (_crew(1, 2, 3),), PresenceVerdict.UNDERSTAFFED),  # too few still wins over any limit
    ],
)
def test_crew_size(people: int, permits: tuple[PermitView, ...], verdict: PresenceVerdict) -> None:
    result = check_presence(PresenceCheck("z1", T, people), ZONE_KINDS, permits)
    assert result.verdict is verdict, result.reason
    if verdict is PresenceVerdict.OVERSTAFFED:
        assert f"cameras see {people}" in result.reason


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
    with pytest.raises(InvalidInput, match="max_people"):
        PermitRequest(PermitType.HOT_WORK, "z1", T, T + timedelta(hours=1), min_people=3, max_people=2)
    with pytest.raises(InvalidInput, match="'welding'"):
        PermitRequest("welding", "z1", T, T + timedelta(hours=1))  # type: ignore[arg-type]
