"""Hazard lifecycle use cases end to end on SQLite and PostgreSQL, every expected value written out by hand:
the event row and the audit entry of each step, the evidence a step appends (kind, keys, author, time,
payload), what a reopen resets, the refusals with their messages, and the clock-skew boundary."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.workflow.conftest import ObsFactory
from tests.support.audit_log import audit_after, last_audit_seq
from tests.support.hazard_rows import events_of, evidence_of, stored_hazard
from workflow.domain.clock import FakeClock
from workflow.domain.errors import (
    ClockSkew,
    ConcurrencyConflict,
    EvidenceRuleViolation,
    InvalidInput,
    Unauthorised,
)
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.roles import Actor, Role
from workflow.services import hazards as hz
from workflow.services.context import WorkflowContext
from workflow.services.views import HazardView

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock fixture's start
M = timedelta(minutes=1)
US = timedelta(microseconds=1)
# A red hazard (likelihood 5 × severity 5): notify 15 min, respond 2 h, fix 24 h after discovery/reopen.
RED = {"likelihood": 5, "severity": 5}


def _exactly(message: str) -> str:
    """A ``match`` pattern for the whole message (``match`` alone searches: a mangled message passes)."""
    return f"^{re.escape(message)}$"


def _discovered(ctx: WorkflowContext, make_obs: ObsFactory) -> int:
    result = hz.ingest_observation(ctx, make_obs(1, T0, **RED))
    assert result.hazard_id is not None
    return result.hazard_id


def _in_rectification(
    ctx: WorkflowContext, u: dict[str, Actor], make_obs: ObsFactory, fixer: str = "fixer"
) -> int:
    """A new hazard registered, dispatched and started by ``fixer``."""
    hid = _discovered(ctx, make_obs)
    hz.register(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u[fixer])
    return hid


def _rectified(
    ctx: WorkflowContext, clock: FakeClock, u: dict[str, Actor], make_obs: ObsFactory, verdict: Verdict
) -> int:
    hid = _in_rectification(ctx, u, make_obs)
    hz.rectify(ctx, hid, u["fixer"], ["after/1.jpg"], VerificationOutcome(verdict, 0.9, 40, 0.0))
    clock.advance(M)
    return hid


def _closed(ctx: WorkflowContext, clock: FakeClock, u: dict[str, Actor], make_obs: ObsFactory) -> int:
    hid = _rectified(ctx, clock, u, make_obs, Verdict.RESOLVED)
    hz.review(ctx, hid, u["rev"], approve=True)
    hz.close(ctx, hid, u["rev"])
    clock.advance(M)
    return hid


def test_each_step_writes_its_event_and_its_audit_entry(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _discovered(ctx, make_obs)
    steps: list[tuple[Callable[[], HazardView], str, str, str, str, str | None, str]] = [
        (
            lambda: hz.register(ctx, hid, u["insp"]),
            "register",
            "discovered",
            "registered",
            "insp",
            None,
            '{"from":"discovered","reason":null,"to":"registered"}',
        ),
        (
            lambda: hz.dispatch(ctx, hid, u["eng"], "fixer"),
            "dispatch",
            "registered",
            "dispatched",
            "eng",
            "assigned to fixer",
            '{"from":"registered","reason":"assigned to fixer","to":"dispatched"}',
        ),
        (
            lambda: hz.start(ctx, hid, u["fixer"]),
            "start",
            "dispatched",
            "in_rectification",
            "fixer",
            None,
            '{"from":"dispatched","reason":null,"to":"in_rectification"}',
        ),
    ]
    for n, (step, action, source, target, who, reason, payload) in enumerate(steps, start=1):
        clock.advance(M)
        head = last_audit_seq(ctx)
        view = step()
        now = T0 + n * M
        assert view.state.value == target
        assert events_of(ctx, hid)[-1] == (
            action,
            source,
            target,
            u[who].user_id,
            who,
            u[who].role.value,
            now,
            reason,
        )
        assert audit_after(ctx, head) == [(now, who, f"hazard.{action}", "hazard", str(hid), payload)]
        assert stored_hazard(ctx, hid).updated_at == now
    assert [e[0] for e in events_of(ctx, hid)] == ["discover", "register", "dispatch", "start"]


def test_a_dispatch_without_an_assignee_records_no_reason(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    hid = _discovered(ctx, make_obs)
    hz.register(ctx, hid, actors["insp"])
    hz.dispatch(ctx, hid, actors["eng"])
    assert events_of(ctx, hid)[-1][7] is None


def test_a_step_at_the_time_of_the_last_one_is_taken_and_one_microsecond_earlier_is_refused(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    hid = _discovered(ctx, make_obs)  # updated_at = T0
    hz.register(ctx, hid, actors["insp"])  # at T0 exactly: not a skew
    assert stored_hazard(ctx, hid).state == "registered"
    clock.set(T0 - US)
    head = last_audit_seq(ctx)
    with pytest.raises(
        ClockSkew,
        match=_exactly(
            "step at 2026-03-02T07:59:59.999999+00:00 precedes the hazard's last step"
            " 2026-03-02T08:00:00+00:00"
        ),
    ):
        hz.dispatch(ctx, hid, actors["eng"])
    assert (stored_hazard(ctx, hid).state, len(events_of(ctx, hid)), audit_after(ctx, head)) == (
        "registered",
        2,
        [],
    )


def test_every_step_refuses_a_stale_version_and_takes_the_current_one(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _discovered(ctx, make_obs)
    resolved = VerificationOutcome(Verdict.RESOLVED, 0.9, 40, 0.0)
    steps: list[tuple[str, Callable[[int], HazardView]]] = [
        ("registered", lambda v: hz.register(ctx, hid, u["insp"], expected_version=v)),
        ("dispatched", lambda v: hz.dispatch(ctx, hid, u["eng"], "fixer", expected_version=v)),
        ("in_rectification", lambda v: hz.start(ctx, hid, u["fixer"], expected_version=v)),
        ("rectified", lambda v: hz.rectify(ctx, hid, u["fixer"], ["a.jpg"], resolved, expected_version=v)),
        ("reviewed", lambda v: hz.review(ctx, hid, u["rev"], True, expected_version=v)),
        ("closed", lambda v: hz.close(ctx, hid, u["rev"], expected_version=v)),
        ("registered", lambda v: hz.reopen(ctx, hid, u["insp"], "back", expected_version=v)),
    ]
    for target, step in steps:
        before = stored_hazard(ctx, hid)
        stale = _exactly(
            f"hazard {hid} is at version {before.version}, not {before.version - 1}; reload and retry"
        )
        with pytest.raises(ConcurrencyConflict, match=stale):
            step(before.version - 1)
        assert stored_hazard(ctx, hid).state == before.state  # nothing taken
        view = step(before.version)
        assert (view.state.value, view.version) == (target, before.version + 1)


def test_rectify_appends_the_after_photos_and_the_verification_and_records_who(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _in_rectification(ctx, u, make_obs)
    with pytest.raises(InvalidInput, match=_exactly("rectification needs at least one after photo")):
        hz.rectify(ctx, hid, u["fixer"], [], None)
    clock.advance(M)
    outcome = VerificationOutcome(Verdict.RESOLVED, 0.9, 40, 0.0)
    view = hz.rectify(
        ctx, hid, u["fixer"], ["after/1.jpg", "after/2.jpg"], outcome, verification_keys=["v.jpg"]
    )
    now = T0 + M
    assert (view.state.value, view.evidence_count) == ("rectified", 3)
    assert evidence_of(ctx, hid)[1:] == [
        (2, "after_photo", '["after/1.jpg", "after/2.jpg"]', None, "fixer", now),
        (3, "verification", '["v.jpg"]', outcome.to_json(), "fixer", now),
    ]
    row = stored_hazard(ctx, hid)
    assert (row.rectified_by, row.rectified_at) == (u["fixer"].user_id, now)
    assert events_of(ctx, hid)[-1] == (
        "rectify",
        "in_rectification",
        "rectified",
        u["fixer"].user_id,
        "fixer",
        "rectifier",
        now,
        None,
    )


def test_a_queued_verification_marks_the_after_photo_pending(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _in_rectification(ctx, u, make_obs)
    view = hz.rectify(ctx, hid, u["fixer"], ["after/1.jpg"], None, verification_queued=True)
    assert view.evidence_count == 2
    assert evidence_of(ctx, hid)[-1] == (
        2,
        "after_photo",
        '["after/1.jpg"]',
        '{"verification":"pending"}',
        "fixer",
        T0,
    )


def test_review_refusals_name_their_reason(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _rectified(ctx, clock, u, make_obs, Verdict.RESOLVED)
    with pytest.raises(
        Unauthorised, match=_exactly("the reviewer must not be the person who rectified the hazard")
    ):
        hz.review(ctx, hid, Actor(u["fixer"].user_id, "fixer", Role.REVIEWER), approve=True)
    with pytest.raises(
        Unauthorised, match=_exactly("the reviewer must not be the person who rectified the hazard")
    ):
        hz.review(ctx, hid, Actor(None, "nobody", u["rev"].role), approve=True)  # no id: cannot tell
    with pytest.raises(Unauthorised):
        hz.review(ctx, hid, u["eng"], approve=True)  # engineers do not review
    for no_reason in (None, ""):
        with pytest.raises(InvalidInput, match=_exactly("a rejection needs a reason")):
            hz.review(ctx, hid, u["rev"], approve=False, reason=no_reason)
    assert stored_hazard(ctx, hid).state == "rectified"
    head = last_audit_seq(ctx)
    view = hz.review(ctx, hid, u["rev"], approve=False, reason="valve still drips")
    now = T0 + M
    assert view.state.value == "in_rectification"
    assert events_of(ctx, hid)[-1] == (
        "reject",
        "rectified",
        "in_rectification",
        u["rev"].user_id,
        "rev",
        "reviewer",
        now,
        "valve still drips",
    )
    assert audit_after(ctx, head) == [
        (
            now,
            "rev",
            "hazard.reject",
            "hazard",
            str(hid),
            '{"from":"rectified","reason":"valve still drips","to":"in_rectification"}',
        ),
    ]


def test_closing_after_a_resolved_verification_needs_no_override(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _rectified(ctx, clock, u, make_obs, Verdict.RESOLVED)
    hz.review(ctx, hid, u["rev"], approve=True)
    clock.advance(M)
    view = hz.close(ctx, hid, u["eng"])
    now = T0 + 2 * M
    assert (view.state.value, view.closed_at, view.evidence_count) == ("closed", now, 3)
    assert stored_hazard(ctx, hid).closed_at == now
    assert events_of(ctx, hid)[-1] == (
        "close",
        "reviewed",
        "closed",
        u["eng"].user_id,
        "eng",
        "safety_engineer",
        now,
        None,
    )


def test_closing_over_a_failed_verification_takes_a_reviewers_recorded_override(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _rectified(ctx, clock, u, make_obs, Verdict.NEEDS_REINSPECTION)
    hz.review(ctx, hid, u["rev"], approve=True)
    clock.advance(M)
    for no_reason in (None, ""):
        refusal = _exactly(
            "latest verification says needs_reinspection; closing needs a reviewer's override reason"
        )
        with pytest.raises(EvidenceRuleViolation, match=refusal):
            hz.close(ctx, hid, u["rev"], no_reason)
    with pytest.raises(
        Unauthorised, match=_exactly("only a reviewer or admin may override a failed verification")
    ):
        hz.close(ctx, hid, u["eng"], "checked by hand")  # engineers may close, not override
    assert (stored_hazard(ctx, hid).state, len(evidence_of(ctx, hid))) == ("reviewed", 3)
    head = last_audit_seq(ctx)
    view = hz.close(ctx, hid, u["boss"], "checked by hand")
    now = T0 + 2 * M
    assert (view.state.value, view.evidence_count, view.closed_at) == ("closed", 4, now)
    assert evidence_of(ctx, hid)[-1] == (
        4,
        "override",
        "[]",
        '{"override_reason":"checked by hand","verdict":"needs_reinspection"}',
        "boss",
        now,
    )
    assert events_of(ctx, hid)[-1] == (
        "close",
        "reviewed",
        "closed",
        u["boss"].user_id,
        "boss",
        "admin",
        now,
        "checked by hand",
    )
    assert audit_after(ctx, head) == [
        (
            now,
            "boss",
            "hazard.close",
            "hazard",
            str(hid),
            '{"from":"reviewed","reason":"checked by hand","to":"closed"}',
        ),
    ]


def test_the_rectifier_may_not_override_even_as_a_reviewer(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _in_rectification(ctx, u, make_obs, fixer="boss")
    hz.rectify(ctx, hid, u["boss"], ["a.jpg"], VerificationOutcome(Verdict.NOT_RESOLVED, 0.9, 40, 0.8))
    hz.review(ctx, hid, u["rev"], approve=True)
    with pytest.raises(
        Unauthorised, match=_exactly("the reviewer must not be the person who rectified the hazard")
    ):
        hz.close(ctx, hid, u["boss"], "looks fine to me")
    assert stored_hazard(ctx, hid).state == "reviewed"


def test_reopen_clears_the_fix_counts_it_and_restarts_the_deadlines(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _closed(ctx, clock, u, make_obs)
    with pytest.raises(InvalidInput, match=_exactly("reopening needs a reason")):
        hz.reopen(ctx, hid, u["insp"], "")
    clock.advance(timedelta(hours=3))
    now = T0 + 2 * M + timedelta(hours=3)
    head = last_audit_seq(ctx)
    view = hz.reopen(ctx, hid, u["insp"], "drip is back")
    assert (view.state.value, view.reopen_count, view.closed_at) == ("registered", 1, None)
    assert (view.respond_by, view.fix_by) == (now + timedelta(hours=2), now + timedelta(hours=24))
    row = stored_hazard(ctx, hid)
    assert (row.notify_by, row.rectified_at, row.rectified_by, row.closed_at) == (
        now + timedelta(minutes=15),
        None,
        None,
        None,
    )
    assert events_of(ctx, hid)[-1] == (
        "reopen",
        "closed",
        "registered",
        u["insp"].user_id,
        "insp",
        "inspector",
        now,
        "drip is back",
    )
    assert audit_after(ctx, head) == [
        (
            now,
            "insp",
            "hazard.reopen",
            "hazard",
            str(hid),
            '{"from":"closed","reason":"drip is back","to":"registered"}',
        ),
    ]
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    hz.rectify(ctx, hid, u["fixer"], ["after/2.jpg"], VerificationOutcome(Verdict.RESOLVED, 0.9, 40, 0.0))
    hz.review(ctx, hid, u["rev"], approve=True)
    hz.close(ctx, hid, u["rev"])
    assert hz.reopen(ctx, hid, u["eng"], "again").reopen_count == 2


def test_a_note_is_numbered_stored_with_its_photos_and_audited(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    hid = _discovered(ctx, make_obs)  # evidence 1: the snapshot
    clock.advance(M)
    head = last_audit_seq(ctx)
    assert hz.add_note(ctx, hid, actors["insp"], ["note/1.jpg"], "guard rail loose too") == 2
    assert hz.add_note(ctx, hid, actors["eng"], [], "seen") == 3
    now = T0 + M
    assert evidence_of(ctx, hid)[1:] == [
        (2, "note", '["note/1.jpg"]', '{"text":"guard rail loose too"}', "insp", now),
        (3, "note", "[]", '{"text":"seen"}', "eng", now),
    ]
    assert audit_after(ctx, head) == [
        (now, "insp", "hazard.note", "hazard", str(hid), '{"seq":2}'),
        (now, "eng", "hazard.note", "hazard", str(hid), '{"seq":3}'),
    ]
    assert stored_hazard(ctx, hid).evidence_count == 3
    assert stored_hazard(ctx, hid).state == "discovered"  # a note is not a step


def test_only_the_verification_of_the_latest_after_photo_decides_the_close(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _rectified(ctx, clock, u, make_obs, Verdict.RESOLVED)  # round 1: resolved
    hz.review(ctx, hid, u["rev"], approve=False, reason="wrong valve photographed")
    hz.rectify(ctx, hid, u["fixer"], ["after/2.jpg"], None, verification_queued=True)  # round 2: queued
    hz.review(ctx, hid, u["rev"], approve=True)
    pending = "latest verification says pending; closing needs a reviewer's override reason"
    with pytest.raises(EvidenceRuleViolation, match=_exactly(pending)):
        hz.close(ctx, hid, u["rev"])  # round 1's "resolved" does not speak for round 2's photo


def test_a_rectification_without_any_verification_closes_without_override(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    hid = _in_rectification(ctx, u, make_obs)
    hz.rectify(ctx, hid, u["fixer"], ["after/1.jpg"], None)  # no verification asked: nothing to say
    hz.review(ctx, hid, u["rev"], approve=True)
    view = hz.close(ctx, hid, u["rev"])
    assert (view.state.value, view.evidence_count) == ("closed", 2)  # no override evidence
