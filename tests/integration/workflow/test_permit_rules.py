"""Permit-to-work use cases end to end on SQLite and PostgreSQL, every expected value written out by hand:
the audit entry each use case writes, what is stored on the permit, every refusal with its message, the
presence check at the edges of a permit's validity and of its crew size (and what it raises: a hazard with
its evidence, or an alert), the expiry sweep's selection, and the request order of ``permits_valid_at``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput, NotFound, Unauthorised
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import IngestStatus, SourceKind
from workflow.domain.permits import (
    PermitRequest,
    PermitStatus,
    PermitType,
    PresenceCheck,
    PresenceResult,
    PresenceVerdict,
)
from workflow.domain.roles import Actor
from workflow.persistence.orm import AlertRow, AuditRow, HazardRow, PermitRow
from workflow.services import permits as pm
from workflow.services import sensors as sn
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.queries import hazard_detail
from workflow.services.zones import Zone, upsert_zone

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock fixture's start
H = timedelta(hours=1)
US = timedelta(microseconds=1)
CS = PermitType.CONFINED_SPACE
Entry = tuple[datetime, str, str, str, str, str]  # at, actor, action, entity, entity_id, payload


def _head(ctx: WorkflowContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.max(AuditRow.seq))) or 0)


def _entries_after(ctx: WorkflowContext, seq: int) -> list[Entry]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(AuditRow).where(AuditRow.seq > seq).order_by(AuditRow.seq))
        return [(r.at, r.actor, r.action, r.entity, r.entity_id, r.payload) for r in rows]


def _count(ctx: WorkflowContext, table: type) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def _stored(ctx: WorkflowContext, permit_id: int) -> tuple[str, str, str | None, str]:
    """status, approvals, suspend_reason, description as the permits table holds them."""
    with ctx.uow() as uow:
        r = uow.session.get(PermitRow, permit_id)
        assert r is not None
        return (r.status, r.approvals, r.suspend_reason, r.description)


def _tank(ctx: WorkflowContext, actors: dict[str, Actor], zone: str = "tank-3") -> None:
    upsert_zone(ctx, Zone(zone, zone.title(), "area-b", frozenset({CS})), actors["boss"])


def _active(
    ctx: WorkflowContext,
    actors: dict[str, Actor],
    start: datetime,
    end: datetime,
    zone: str = "tank-3",
    min_people: int = 2,
    max_people: int | None = None,
) -> int:
    """A permit requested by ``eng`` and approved by ``eng2`` and ``boss``: active."""
    req = PermitRequest(CS, zone, start, end, min_people=min_people, max_people=max_people)
    permit_id = pm.request_permit(ctx, req, actors["eng"]).permit_id
    pm.approve_permit(ctx, permit_id, actors["eng2"])
    pm.approve_permit(ctx, permit_id, actors["boss"])
    return permit_id


# --- request ---------------------------------------------------------------------------------------------


def test_a_request_is_stored_pending_with_its_description_and_audited(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    seq = _head(ctx)
    req = PermitRequest(CS, "tank-3", T0, T0 + 4 * H, description="valve change inside tank 3")
    view = pm.request_permit(ctx, req, actors["eng"])
    assert (view.zone, view.status, view.valid_from, view.valid_to, view.min_people) == (
        "tank-3",
        PermitStatus.PENDING,
        T0,
        T0 + 4 * H,
        2,
    )
    assert _stored(ctx, view.permit_id) == ("pending", "", None, "valve change inside tank 3")
    assert _entries_after(ctx, seq) == [
        (
            T0,
            "eng",
            "permit.request",
            "permit",
            str(view.permit_id),
            '{"type":"confined_space","zone":"tank-3"}',
        )
    ]


def test_a_request_for_an_unknown_zone_is_refused_by_name_and_writes_nothing(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    seq = _head(ctx)
    with pytest.raises(NotFound) as error:
        pm.request_permit(ctx, PermitRequest(CS, "nowhere", T0, T0 + H), actors["eng"])
    assert str(error.value) == "zone nowhere does not exist"
    assert (_entries_after(ctx, seq), _count(ctx, PermitRow)) == ([], 0)


# --- approval --------------------------------------------------------------------------------------------


def test_each_approval_is_audited_with_its_count_and_the_second_activates(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = pm.request_permit(ctx, PermitRequest(CS, "tank-3", T0, T0 + H), actors["eng"]).permit_id
    seq = _head(ctx)
    first = pm.approve_permit(ctx, permit_id, actors["eng2"])
    assert first.status is PermitStatus.PENDING
    assert _stored(ctx, permit_id)[:2] == ("pending", f"{actors['eng2'].user_id}")
    clock.advance(timedelta(minutes=5))
    second = pm.approve_permit(ctx, permit_id, actors["boss"])
    assert second.status is PermitStatus.ACTIVE
    assert _stored(ctx, permit_id)[:2] == ("active", f"{actors['eng2'].user_id},{actors['boss'].user_id}")
    assert _entries_after(ctx, seq) == [
        (T0, "eng2", "permit.approve", "permit", str(permit_id), '{"approvals":1,"status":"pending"}'),
        (
            T0 + timedelta(minutes=5),
            "boss",
            "permit.approve",
            "permit",
            str(permit_id),
            '{"approvals":2,"status":"active"}',
        ),
    ]
    assert verify_audit_chain(ctx).ok


def test_a_permit_that_holds_two_approvals_refuses_a_third_as_not_pending(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    # The stored approvals are read back (comma-separated) before the status is judged, so a permit with
    # two approvals must still be read as two ids and refused by its status, not fail on the parse.
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0, T0 + H)
    seq = _head(ctx)
    with pytest.raises(InvalidInput) as error:
        pm.approve_permit(ctx, permit_id, actors["eng"])
    assert str(error.value) == "only pending permits can be approved (this one is active)"
    pm.suspend_permit(ctx, permit_id, actors["boss"], "gas reading")
    with pytest.raises(InvalidInput) as error:
        pm.approve_permit(ctx, permit_id, actors["eng2"])
    assert str(error.value) == "only pending permits can be approved (this one is suspended)"
    assert [e[2] for e in _entries_after(ctx, seq)] == ["permit.suspend"]


# --- suspension ------------------------------------------------------------------------------------------


def test_a_suspension_returns_the_suspended_permit_keeps_its_reason_and_is_audited(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0, T0 + H)
    clock.advance(timedelta(minutes=10))
    seq = _head(ctx)
    view = pm.suspend_permit(ctx, permit_id, actors["eng2"], "H2S above 10 ppm")
    assert (view.permit_id, view.status, view.zone, view.valid_to) == (
        permit_id,
        PermitStatus.SUSPENDED,
        "tank-3",
        T0 + H,
    )
    assert _stored(ctx, permit_id)[:3] == (
        "suspended",
        f"{actors['eng2'].user_id},{actors['boss'].user_id}",
        "H2S above 10 ppm",
    )
    assert _entries_after(ctx, seq) == [
        (
            T0 + timedelta(minutes=10),
            "eng2",
            "permit.suspend",
            "permit",
            str(permit_id),
            '{"reason":"H2S above 10 ppm"}',
        )
    ]


def test_a_suspension_is_refused_to_other_roles_and_without_a_reason(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0, T0 + H)
    seq = _head(ctx)
    for who, role in (("insp", "inspector"), ("fixer", "rectifier"), ("rev", "reviewer")):
        with pytest.raises(Unauthorised) as denied:
            pm.suspend_permit(ctx, permit_id, actors[who], "looks unsafe")
        assert str(denied.value) == f"role {role} may not suspend permits"
    with pytest.raises(Unauthorised) as denied:  # the role is judged before the reason
        pm.suspend_permit(ctx, permit_id, actors["insp"], "")
    assert str(denied.value) == "role inspector may not suspend permits"
    with pytest.raises(InvalidInput) as invalid:
        pm.suspend_permit(ctx, permit_id, actors["eng"], "")
    assert str(invalid.value) == "suspending a permit needs a reason"
    with pytest.raises(NotFound) as missing:
        pm.suspend_permit(ctx, 999, actors["eng"], "gas")
    assert str(missing.value) == "permit 999 does not exist"
    assert _entries_after(ctx, seq) == []
    assert _stored(ctx, permit_id)[0::2] == ("active", None)


# --- expiry sweep ----------------------------------------------------------------------------------------


def test_the_sweep_suspends_active_and_pending_permits_whose_validity_has_ended(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    ended_active = _active(ctx, actors, T0 - 2 * H, T0)  # valid_to == now: ended
    ended_pending = pm.request_permit(ctx, PermitRequest(CS, "tank-3", T0 - 2 * H, T0 - H), actors["eng"])
    running = _active(ctx, actors, T0 - H, T0 + US)  # a microsecond left
    suspended = _active(ctx, actors, T0 - 2 * H, T0 - H)
    pm.suspend_permit(ctx, suspended, actors["boss"], "work stopped")
    seq = _head(ctx)
    swept = pm.expire_sweep(ctx)
    assert sorted(swept) == [ended_active, ended_pending.permit_id]
    assert _stored(ctx, ended_active)[0::2] == ("suspended", "expired")
    assert _stored(ctx, ended_pending.permit_id)[0::2] == ("suspended", "expired")
    assert _stored(ctx, running)[0::2] == ("active", None)
    assert _stored(ctx, suspended)[0::2] == ("suspended", "work stopped")
    assert sorted(_entries_after(ctx, seq)) == [
        (T0, "system", "permit.expire", "permit", str(ended_active), "{}"),
        (T0, "system", "permit.expire", "permit", str(ended_pending.permit_id), "{}"),
    ]
    assert pm.expire_sweep(ctx) == []  # nothing twice
    clock.advance(US)
    seq = _head(ctx)
    assert pm.expire_sweep(ctx) == [running]
    assert _entries_after(ctx, seq) == [(T0 + US, "system", "permit.expire", "permit", str(running), "{}")]
    assert verify_audit_chain(ctx).ok


# --- presence check --------------------------------------------------------------------------------------


def test_a_permit_covers_from_its_valid_from_up_to_but_not_at_its_valid_to(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0 - H, T0)

    def verdict(at: datetime, n: int) -> PresenceVerdict:
        return pm.presence_check(ctx, PresenceCheck("tank-3", at, n), f"edge-{at.isoformat()}").result.verdict

    assert verdict(T0 - H - US, 2) is PresenceVerdict.NO_VALID_PERMIT
    assert verdict(T0 - H, 2) is PresenceVerdict.PERMITTED
    assert verdict(T0 - US, 2) is PresenceVerdict.PERMITTED
    assert verdict(T0, 2) is PresenceVerdict.NO_VALID_PERMIT
    covered = pm.presence_check(ctx, PresenceCheck("tank-3", T0 - H, 2), "edge-ok")
    assert (covered.result, covered.hazard, covered.alert_id) == (
        PresenceResult(PresenceVerdict.PERMITTED, "covered by a valid permit", permit_id),
        None,
        None,
    )


def test_only_an_active_permit_of_that_zone_and_kind_covers_the_people_seen(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    _tank(ctx, actors, "tank-4")
    upsert_zone(ctx, Zone("yard", "Yard", "area-b"), actors["boss"])  # needs no permit
    pm.request_permit(ctx, PermitRequest(CS, "tank-3", T0 - H, T0 + H), actors["eng"])  # pending
    _active(ctx, actors, T0 - H, T0 + H, zone="tank-4")  # another zone
    pm.suspend_permit(ctx, _active(ctx, actors, T0 - H, T0 + H), actors["boss"], "stop")  # suspended
    nobody = pm.presence_check(ctx, PresenceCheck("tank-3", T0, 0), "p-0")
    assert nobody.result == PresenceResult(PresenceVerdict.NOBODY_PRESENT, "no people seen")
    uncovered = pm.presence_check(ctx, PresenceCheck("tank-3", T0, 2), "p-1")
    assert uncovered.result == PresenceResult(
        PresenceVerdict.NO_VALID_PERMIT, "no valid confined_space permit in zone tank-3"
    )
    free = pm.presence_check(ctx, PresenceCheck("yard", T0, 3), "p-2")
    assert (free.result, free.hazard, free.alert_id) == (
        PresenceResult(PresenceVerdict.NOT_REQUIRED, "zone yard needs no permit"),
        None,
        None,
    )
    hot = pm.presence_check(ctx, PresenceCheck("yard", T0, 1, work_kind=PermitType.HOT_WORK), "p-3")
    assert hot.result == PresenceResult(
        PresenceVerdict.NO_VALID_PERMIT, "no valid hot_work permit in zone yard"
    )
    with pytest.raises(NotFound) as missing:
        pm.presence_check(ctx, PresenceCheck("nowhere", T0, 1), "p-4")
    assert str(missing.value) == "zone nowhere does not exist"


def test_no_valid_permit_raises_a_hazard_from_the_camera_with_its_snapshot(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    outcome = pm.presence_check(
        ctx, PresenceCheck("tank-3", T0 - H, 2, camera_id="cam-7"), "pc-cam", ("snap/pc-cam.jpg",)
    )
    assert outcome.alert_id is None and outcome.hazard is not None
    assert outcome.hazard.status is IngestStatus.CREATED and outcome.hazard.hazard_id is not None
    detail = hazard_detail(ctx, outcome.hazard.hazard_id)
    h = detail.hazard
    assert (h.kind, h.zone, h.source_kind, h.source_id, h.state, h.description, h.discovered_at) == (
        "permit.no_valid_permit",
        "tank-3",
        SourceKind.CAMERA,
        "cam-7",
        HazardState.DISCOVERED,
        "no valid confined_space permit in zone tank-3",
        T0 - H,
    )
    assert [e.object_keys for e in detail.evidence] == [("snap/pc-cam.jpg",)]


def test_no_valid_permit_without_a_camera_is_a_manual_presence_check_finding(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    outcome = pm.presence_check(ctx, PresenceCheck("tank-3", T0, 1), "pc-hand")
    assert outcome.hazard is not None and outcome.hazard.hazard_id is not None
    h = hazard_detail(ctx, outcome.hazard.hazard_id).hazard
    assert (h.kind, h.source_kind, h.source_id, h.description) == (
        "permit.no_valid_permit",
        SourceKind.MANUAL,
        "presence-check",
        "no valid confined_space permit in zone tank-3",
    )
    assert _count(ctx, HazardRow) == 1


def test_too_few_people_raise_an_understaffed_alert_and_its_audit_entry(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0 - H, T0 + H, min_people=3)
    assert (
        pm.presence_check(ctx, PresenceCheck("tank-3", T0, 3), "s-3").result.verdict
        is PresenceVerdict.PERMITTED
    )
    clock.advance(timedelta(minutes=1))
    seq = _head(ctx)
    outcome = pm.presence_check(ctx, PresenceCheck("tank-3", T0 - timedelta(minutes=2), 2), "s-2")
    assert outcome.hazard is None and outcome.alert_id is not None
    assert outcome.result == PresenceResult(
        PresenceVerdict.UNDERSTAFFED,
        f"permit {permit_id} requires 3 people including a watcher; cameras see 2",
        permit_id,
    )
    assert sn.list_alerts(ctx) == [
        sn.Alert(
            outcome.alert_id,
            "permit.understaffed",
            None,
            "tank-3",
            None,
            None,
            2.0,
            T0 - timedelta(minutes=2),
            False,
            None,
            f"permit {permit_id} requires 3 people including a watcher; cameras see 2",
        )
    ]
    assert _entries_after(ctx, seq) == [
        (
            T0 + timedelta(minutes=1),
            "system",
            "alert.permit",
            "alert",
            str(outcome.alert_id),
            f'{{"permit_id":{permit_id}}}',
        )
    ]
    assert _count(ctx, HazardRow) == 0


def test_more_people_than_the_crew_raise_an_overstaffed_alert(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    _tank(ctx, actors)
    permit_id = _active(ctx, actors, T0 - H, T0 + H, max_people=4)
    full = pm.presence_check(ctx, PresenceCheck("tank-3", T0, 4, camera_id="cam-7"), "o-4")
    assert (full.result.verdict, full.alert_id) == (PresenceVerdict.PERMITTED, None)
    seq = _head(ctx)
    outcome = pm.presence_check(ctx, PresenceCheck("tank-3", T0, 5, camera_id="cam-7"), "o-5")
    reason = f"permit {permit_id} allows 4 people; cameras see 5"
    assert outcome.result == PresenceResult(PresenceVerdict.OVERSTAFFED, reason, permit_id)
    assert outcome.alert_id is not None
    (alert,) = sn.list_alerts(ctx)
    assert alert == sn.Alert(
        outcome.alert_id, "permit.overstaffed", None, "tank-3", None, None, 5.0, T0, False, None, reason
    )
    assert _entries_after(ctx, seq) == [
        (T0, "system", "alert.permit", "alert", str(outcome.alert_id), f'{{"permit_id":{permit_id}}}')
    ]
    with ctx.uow() as uow:
        assert uow.session.scalars(select(AlertRow.acknowledged)).all() == [False]


# --- permits valid at ------------------------------------------------------------------------------------


def test_permits_valid_at_come_in_request_order_whatever_their_end_or_storage_order(
    ctx: WorkflowContext, actors: dict[str, Actor]
) -> None:
    # The later request ends first (the zone/status/valid_to index would list it first) and is approved
    # first (PostgreSQL's heap then holds its new row version first): request order must still win.
    _tank(ctx, actors)
    first = pm.request_permit(ctx, PermitRequest(CS, "tank-3", T0 - H, T0 + 8 * H), actors["eng"]).permit_id
    second = pm.request_permit(ctx, PermitRequest(CS, "tank-3", T0 - H, T0 + H), actors["eng"]).permit_id
    for permit_id in (second, first):
        pm.approve_permit(ctx, permit_id, actors["eng2"])
        pm.approve_permit(ctx, permit_id, actors["boss"])
    assert [p.permit_id for p in pm.permits_valid_at(ctx, "tank-3", T0)] == [first, second]
