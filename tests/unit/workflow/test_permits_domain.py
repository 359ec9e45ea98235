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
    PresenceResult,
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


# Exact results, reasons included: the reasons are what the alert and the hazard say to people.
CREW = PermitView(9, PermitType.HOT_WORK, "z1", T, T + timedelta(hours=4), PermitStatus.ACTIVE, 2, False, 3)
LATER = PermitView(11, PermitType.HOT_WORK, "z1", T, T + timedelta(hours=9), PermitStatus.ACTIVE, 3, False, 4)
AT = T + timedelta(hours=1)


@pytest.mark.parametrize(
    ("people", "work", "zone_kinds", "permits", "expected"),
    [
        (0, None, ZONE_KINDS, (HOT,), PresenceResult(PresenceVerdict.NOBODY_PRESENT, "no people seen")),
        (
            2,
            None,
            frozenset(),
            (HOT,),
            PresenceResult(PresenceVerdict.NOT_REQUIRED, "zone z1 needs no permit"),
        ),
        (
            1,
            None,
            frozenset({PermitType.HOT_WORK, PermitType.CONFINED_SPACE}),
            (),
            PresenceResult(
                PresenceVerdict.NO_VALID_PERMIT, "no valid confined_space, hot_work permit in zone z1"
            ),
        ),
        (
            2,
            None,
            ZONE_KINDS,
            (HOT,),
            PresenceResult(PresenceVerdict.PERMITTED, "covered by a valid permit", 7),
        ),
        (
            1,
            None,
            ZONE_KINDS,
            (HOT,),
            PresenceResult(
                PresenceVerdict.UNDERSTAFFED,
                "permit 7 requires 2 people including a watcher; cameras see 1",
                7,
            ),
        ),
        (
            1,
            PermitType.HOT_WORK,
            frozenset(),
            (CREW, LATER),
            # The permit that runs longest is the one named: it is the one still in force later.
            PresenceResult(PresenceVerdict.UNDERSTAFFED, "permit 11 requires 3 people; cameras see 1", 11),
        ),
        (
            3,
            None,
            ZONE_KINDS,
            (CREW,),
            PresenceResult(PresenceVerdict.PERMITTED, "covered by a valid permit", 9),
        ),
        (
            4,
            None,
            ZONE_KINDS,
            (CREW,),
            PresenceResult(PresenceVerdict.OVERSTAFFED, "permit 9 allows 3 people; cameras see 4", 9),
        ),
        (
            7,
            None,
            ZONE_KINDS,
            (CREW, LATER),
            PresenceResult(PresenceVerdict.PERMITTED, "covered by a valid permit", 9),
        ),
        (
            8,
            None,
            ZONE_KINDS,
            (CREW, LATER),
            PresenceResult(PresenceVerdict.OVERSTAFFED, "permit 9, 11 allows 7 people; cameras see 8", 9),
        ),
    ],
)
def test_presence_results_exactly(
    people: int,
    work: PermitType | None,
    zone_kinds: frozenset[PermitType],
    permits: tuple[PermitView, ...],
    expected: PresenceResult,
) -> None:
    assert check_presence(PresenceCheck("z1", AT, people, work), zone_kinds, permits) == expected


def test_a_permit_is_valid_from_its_start_until_just_before_its_end() -> None:
    assert HOT.valid_at(T) and HOT.valid_at(T + timedelta(hours=8) - timedelta(microseconds=1))
    assert not HOT.valid_at(T - timedelta(microseconds=1)) and not HOT.valid_at(T + timedelta(hours=8))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid_to": T}, "a permit's valid_to must be after valid_from"),
        ({"min_people": 0, "watcher_required": False}, "min_people must be ≥ 1"),
        ({"min_people": 1}, "a permit that requires a watcher needs min_people ≥ 2"),
        ({"min_people": 3, "max_people": 2}, r"max_people \(2\) must be ≥ min_people \(3\)"),
    ],
)
def test_bad_permit_requests_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"permit_type": PermitType.HOT_WORK, "zone": "z1", "valid_from": T,
                                 "valid_to": T + timedelta(hours=1)} | kwargs  # fmt: skip
    with pytest.raises(InvalidInput, match=f"^{message}$"):
        PermitRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("people", "maximum"), [(1, None), (1, 1), (2, 2), (2, 5)])
def test_permit_request_bounds_that_are_accepted(people: int, maximum: int | None) -> None:
    request = PermitRequest(PermitType.LIFTING, "z1", T, T + timedelta(minutes=1), people, False, "", maximum)
    assert (request.min_people, request.max_people) == (people, maximum)


def test_approval_refusals_say_why() -> None:
    engineer = Actor(2, "a", Role.SAFETY_ENGINEER)
    with pytest.raises(InvalidInput, match=r"^only pending permits can be approved \(this one is active\)$"):
        check_approval(engineer, 1, (), PermitStatus.ACTIVE)
    with pytest.raises(Unauthorised, match=r"^role reviewer may not approve permits$"):
        check_approval(Actor(5, "v", Role.REVIEWER), 1, (), PermitStatus.PENDING)
    with pytest.raises(Unauthorised, match=r"^role safety_engineer may not approve permits$"):
        check_approval(Actor(None, "system", Role.SAFETY_ENGINEER), 1, (), PermitStatus.PENDING)
    with pytest.raises(Unauthorised, match=r"^the requester cannot approve their own permit$"):
        check_approval(engineer, 2, (), PermitStatus.PENDING)
    with pytest.raises(
        Unauthorised, match=r"^the same person cannot approve a permit twice; a second approver is needed$"
    ):
        check_approval(engineer, 1, (2,), PermitStatus.PENDING)


def test_people_count_cannot_be_negative() -> None:
    assert PresenceCheck("z1", T, 0).people_count == 0
    with pytest.raises(InvalidInput, match=r"^people_count must be ≥ 0$"):
        PresenceCheck("z1", T, -1)
