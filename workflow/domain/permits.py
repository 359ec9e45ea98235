"""Permits-to-work: types, validity, two-person approval, expiry, and the camera presence check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from workflow.domain.errors import InvalidInput, Unauthorised
from workflow.domain.roles import Actor, Role


class PermitType(StrEnum):
    HOT_WORK = "hot_work"  # 动火作业
    CONFINED_SPACE = "confined_space"  # 受限空间
    WORK_AT_HEIGHT = "work_at_height"  # 高处作业
    LIFTING = "lifting"
    ELECTRICAL = "electrical"
    EXCAVATION = "excavation"


def parse_permit_type(value: str) -> PermitType:
    try:
        return PermitType(value)
    except ValueError:
        raise InvalidInput(f"unknown permit type {value!r}; known: {[t.value for t in PermitType]}") from None


class PermitStatus(StrEnum):
    PENDING = "pending"  # waiting for two distinct approvals
    ACTIVE = "active"
    SUSPENDED = "suspended"  # by hand, or automatically on expiry


APPROVER_ROLES = frozenset({Role.SAFETY_ENGINEER, Role.ADMIN})
REQUIRED_APPROVALS = 2


@dataclass(frozen=True, slots=True)
class PermitRequest:
    permit_type: PermitType
    zone: str
    valid_from: datetime
    valid_to: datetime
    min_people: int = 2  # the worker plus the watcher (监护人)
    watcher_required: bool = True
    description: str = ""
    max_people: int | None = None  # the crew named on the permit; None: no upper limit

    def __post_init__(self) -> None:
        object.__setattr__(self, "permit_type", parse_permit_type(self.permit_type))
        if self.valid_to <= self.valid_from:
            raise InvalidInput("a permit's valid_to must be after valid_from")
        if self.min_people < 1:
            raise InvalidInput("min_people must be ≥ 1")
        if self.watcher_required and self.min_people < 2:
            raise InvalidInput("a permit that requires a watcher needs min_people ≥ 2")
        if self.max_people is not None and self.max_people < self.min_people:
            raise InvalidInput(f"max_people ({self.max_people}) must be ≥ min_people ({self.min_people})")


def check_approval(
    actor: Actor, requested_by: int | None, approvals: tuple[int, ...], status: PermitStatus
) -> tuple[int, ...]:
    """Return the approvals after this actor's; two distinct approvers, neither the requester."""
    if status is not PermitStatus.PENDING:
        raise InvalidInput(f"only pending permits can be approved (this one is {status.value})")
    if actor.role not in APPROVER_ROLES or actor.user_id is None:
        raise Unauthorised(f"role {actor.role.value} may not approve permits")
    if actor.user_id == requested_by:
        raise Unauthorised("the requester cannot approve their own permit")
    if actor.user_id in approvals:
        raise Unauthorised("the same person cannot approve a permit twice; a second approver is needed")
    return (*approvals, actor.user_id)


@dataclass(frozen=True, slots=True)
class PermitView:
    """What the presence check needs to know about a permit."""

    permit_id: int
    permit_type: PermitType
    zone: str
    valid_from: datetime
    valid_to: datetime
    status: PermitStatus
    min_people: int
    watcher_required: bool
    max_people: int | None = None

    def valid_at(self, moment: datetime) -> bool:
        return self.status is PermitStatus.ACTIVE and self.valid_from <= moment < self.valid_to


class PresenceVerdict(StrEnum):
    NOBODY_PRESENT = "nobody_present"
    NOT_REQUIRED = "not_required"
    PERMITTED = "permitted"
    NO_VALID_PERMIT = "no_valid_permit"  # → hazard
    UNDERSTAFFED = "understaffed"  # valid permit, fewer people than it requires / no watcher → alert
    OVERSTAFFED = "overstaffed"  # valid permits, more people than their crews together → alert


@dataclass(frozen=True, slots=True)
class PresenceCheck:
    """Cameras saw ``people_count`` people (each head or helmet box is one) in ``zone`` at ``at``."""

    zone: str
    at: datetime
    people_count: int
    work_kind: PermitType | None = None
    camera_id: str | None = None

    def __post_init__(self) -> None:
        if self.people_count < 0:
            raise InvalidInput("people_count must be ≥ 0")
        if self.work_kind is not None:
            object.__setattr__(self, "work_kind", parse_permit_type(self.work_kind))


@dataclass(frozen=True, slots=True)
class PresenceResult:
    verdict: PresenceVerdict
    reason: str
    permit_id: int | None = None


def check_presence(
    check: PresenceCheck, zone_permit_kinds: frozenset[PermitType], permits: tuple[PermitView, ...]
) -> PresenceResult:
    """Decide whether the people seen are covered by a valid permit.

    Required permit kinds: the work kind seen (when a model tells us), else the zone's kinds
    (empty when the zone is not permit-required).
    """
    if check.people_count == 0:
        return PresenceResult(PresenceVerdict.NOBODY_PRESENT, "no people seen")
    required = frozenset({check.work_kind}) if check.work_kind is not None else zone_permit_kinds
    if not required:
        return PresenceResult(PresenceVerdict.NOT_REQUIRED, f"zone {check.zone} needs no permit")
    valid = [
        p for p in permits if p.zone == check.zone and p.permit_type in required and p.valid_at(check.at)
    ]
    if not valid:
        kinds = ", ".join(sorted(k.value for k in required))
        return PresenceResult(
            PresenceVerdict.NO_VALID_PERMIT, f"no valid {kinds} permit in zone {check.zone}"
        )
    staffed = [p for p in valid if check.people_count >= p.min_people]
    if staffed:
        # Several permits in one zone (two crews) allow their crews together; one without a limit: any number.
        limits = [p.max_people for p in valid]
        allowed = None if None in limits else sum(m for m in limits if m is not None)
        if allowed is not None and check.people_count > allowed:
            ids = ", ".join(str(p.permit_id) for p in valid)
            reason = f"permit {ids} allows {allowed} people; cameras see {check.people_count}"
            return PresenceResult(PresenceVerdict.OVERSTAFFED, reason, staffed[0].permit_id)
        return PresenceResult(PresenceVerdict.PERMITTED, "covered by a valid permit", staffed[0].permit_id)
    best = max(valid, key=lambda p: p.valid_to)
    reason = (
        f"permit {best.permit_id} requires {best.min_people} people"
        + (" including a watcher" if best.watcher_required else "")
        + f"; cameras see {check.people_count}"
    )
    return PresenceResult(PresenceVerdict.UNDERSTAFFED, reason, best.permit_id)
