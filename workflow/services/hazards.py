"""Hazard use cases: observation intake (create / append / reopen / duplicate) and lifecycle steps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import ClockSkew, EvidenceRuleViolation, InvalidInput, Unauthorised
from workflow.domain.evidence import EvidenceKind, Verdict, VerificationOutcome
from workflow.domain.grading import RiskLevel, deadlines_for, grade
from workflow.domain.lifecycle import Action, HazardState, authorise, edge_for
from workflow.domain.observations import (
    PPE_OK_KIND,
    IngestResult,
    IngestStatus,
    Observation,
    SourceKind,
    check_not_future,
    dedup_key,
    repeat_key,
)
from workflow.domain.repeats import is_repeat
from workflow.domain.roles import SYSTEM, Actor
from workflow.persistence.orm import HazardEventRow, HazardRow, ObservationRow, ZoneRow
from workflow.persistence.uow import UnitOfWork
from workflow.services.context import WorkflowContext
from workflow.services.views import HazardView

_FIRST_EVIDENCE = {SourceKind.CAMERA: EvidenceKind.SNAPSHOT, SourceKind.SENSOR: EvidenceKind.SENSOR_READING}


def ingest_observation(ctx: WorkflowContext, obs: Observation) -> IngestResult:
    """Idempotent: the same observation_id twice returns DUPLICATE with the original hazard id."""
    now = ctx.clock.now()
    check_not_future(obs.observed_at, now, ctx.config.max_clock_skew, "observed_at")
    with ctx.uow() as uow:
        result = _ingest(uow, ctx, obs, now)
        try:
            uow.commit()
        except IntegrityError:
            # A concurrent request with the same observation id won the insert: report it as a duplicate.
            with ctx.uow() as again:
                prior = again.repo.observation(obs.observation_id)
                if prior is None:
                    raise
                return IngestResult(IngestStatus.DUPLICATE, prior.hazard_id)
        return result


def ingest_observations(ctx: WorkflowContext, batch: Sequence[Observation]) -> list[IngestResult]:
    """Several observations (e.g. all findings of one camera poll) in one transaction: all or nothing.

    Same decisions as ``ingest_observation`` in order; a repeated id inside the batch is a duplicate.
    Amortises the commit, which is what bounds the intake rate on a busy database.
    """
    now = ctx.clock.now()
    for obs in batch:  # refuse the whole batch before writing anything
        check_not_future(obs.observed_at, now, ctx.config.max_clock_skew, "observed_at")
    with ctx.uow() as uow:
        results = [_ingest(uow, ctx, obs, now) for obs in batch]
        uow.commit()
        return results


def ingest_in(uow: UnitOfWork, ctx: WorkflowContext, obs: Observation) -> IngestResult:
    """The same decision inside a caller's unit of work (sensor and permit use cases)."""
    return _ingest(uow, ctx, obs, ctx.clock.now())


def _ingest(uow: UnitOfWork, ctx: WorkflowContext, obs: Observation, now: datetime) -> IngestResult:
    cfg = ctx.config
    prior = uow.repo.observation(obs.observation_id)
    if prior is not None:
        return IngestResult(IngestStatus.DUPLICATE, prior.hazard_id)
    zone = uow.session.get(ZoneRow, obs.zone)
    area = zone.area if zone is not None else (obs.area or obs.zone)
    status, hazard, flagged = IngestStatus.RECORDED, None, False
    if obs.kind != PPE_OK_KIND and obs.confidence >= cfg.min_confidence:
        status, hazard, flagged = _decide(uow, ctx, obs, area, now)
    uow.repo.add_observation(
        ObservationRow(
            observation_id=obs.observation_id,
            hazard_id=hazard.id if hazard else None,
            kind=obs.kind,
            zone=obs.zone,
            area=area,
            source_kind=obs.source_kind.value,
            source_id=obs.source_id,
            confidence=float(obs.confidence),
            observed_at=obs.observed_at,
            status=status.value,
        )
    )
    if hazard is not None:
        kind = _FIRST_EVIDENCE.get(obs.source_kind, EvidenceKind.BEFORE_PHOTO)
        payload = canonical_payload(
            {
                "confidence": float(obs.confidence),
                "box": ",".join(f"{v:g}" for v in obs.box) if obs.box else None,
                "description": obs.description,
                "reported_by": obs.reported_by,
            }
        )
        uow.repo.append_evidence(
            hazard,
            kind.value,
            obs.evidence_keys,
            obs.reported_by or obs.source_id,
            obs.observed_at,
            payload,
            obs.observation_id,
        )
        hazard.last_seen_at = max(hazard.last_seen_at, obs.observed_at)
        uow.repo.append_audit(
            now,
            obs.reported_by or SYSTEM.name,
            f"observation.{status.value}",
            "hazard",
            str(hazard.id),
            canonical_payload({"observation_id": obs.observation_id, "kind": obs.kind}),
        )
    return IngestResult(status, hazard.id if hazard else None, flagged)


def _decide(
    uow: UnitOfWork, ctx: WorkflowContext, obs: Observation, area: str, now: datetime
) -> tuple[IngestStatus, HazardRow, bool]:
    cfg = ctx.config
    key = dedup_key(obs)
    open_row = uow.repo.open_hazard_for(key)
    if open_row is not None and obs.observed_at - open_row.last_seen_at <= cfg.dedup_window:
        return IngestStatus.APPENDED, open_row, open_row.repeat_flag
    if obs.equipment_id:
        closed = uow.repo.closed_hazard_at_equipment(obs.kind, obs.equipment_id, now - cfg.reopen_window)
        if closed is not None:
            _reopen(uow, ctx, closed, SYSTEM, now, f"new occurrence {obs.observation_id}")
            return IngestStatus.REOPENED, closed, closed.repeat_flag
    likelihood, severity = (
        obs.likelihood or cfg.risk_for(obs.kind)[0],
        obs.severity or cfg.risk_for(obs.kind)[1],
    )
    level = grade(likelihood, severity, cfg.grading)
    due = deadlines_for(level, obs.observed_at, cfg.grading)
    rkey = repeat_key(obs.kind, obs.equipment_id, area)
    unresolved, in_window = uow.repo.repeat_counts(rkey, obs.observed_at - cfg.repeats.window)
    flagged = is_repeat(unresolved + 1, in_window + 1, cfg.repeats)
    row = uow.repo.add_hazard(
        HazardRow(
            kind=obs.kind,
            zone=obs.zone,
            area=area,
            equipment_id=obs.equipment_id,
            source_kind=obs.source_kind.value,
            source_id=obs.source_id,
            dedup_key=key,
            repeat_key=rkey,
            state=HazardState.DISCOVERED.value,
            likelihood=likelihood,
            severity=severity,
            level=level.value,
            level_rank=level.rank,
            escalation_level=1 if flagged else 0,
            repeat_flag=flagged,
            description=obs.description,
            discovered_at=obs.observed_at,
            notify_by=due.notify_by,
            respond_by=due.respond_by,
            fix_by=due.fix_by,
            last_seen_at=obs.observed_at,
            evidence_count=0,
            reopen_count=0,
            updated_at=now,
        )
    )
    uow.repo.add_event(
        HazardEventRow(
            hazard_id=row.id,
            action="discover",
            from_state=None,
            to_state=HazardState.DISCOVERED.value,
            actor_id=None,
            actor_name=obs.reported_by or SYSTEM.name,
            actor_role=SYSTEM.role.value,
            at=now,
            reason="repeat hazard: escalated" if flagged else None,
        )
    )
    return IngestStatus.CREATED, row, flagged


def _step(
    uow: UnitOfWork, hazard: HazardRow, action: Action, actor: Actor, now: datetime, reason: str | None = None
) -> HazardState:
    source = HazardState(hazard.state)
    edge = edge_for(source, action)
    authorise(edge, actor)
    if now < hazard.updated_at:
        raise ClockSkew(
            f"step at {now.isoformat()} precedes the hazard's last step {hazard.updated_at.isoformat()}"
        )
    hazard.state = edge.target.value
    hazard.updated_at = now
    uow.repo.add_event(
        HazardEventRow(
            hazard_id=hazard.id,
            action=action.value,
            from_state=source.value,
            to_state=edge.target.value,
            actor_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value,
            at=now,
            reason=reason,
        )
    )
    uow.repo.append_audit(
        now,
        actor.name,
        f"hazard.{action.value}",
        "hazard",
        str(hazard.id),
        canonical_payload({"from": source.value, "to": edge.target.value, "reason": reason}),
    )
    return edge.target


def _reopen(
    uow: UnitOfWork, ctx: WorkflowContext, hazard: HazardRow, actor: Actor, now: datetime, why: str
) -> None:
    _step(uow, hazard, Action.REOPEN, actor, now, why)
    due = deadlines_for(RiskLevel(hazard.level), now, ctx.config.grading)
    hazard.respond_by, hazard.fix_by, hazard.notify_by = due.respond_by, due.fix_by, due.notify_by
    hazard.closed_at, hazard.rectified_at, hazard.rectified_by = None, None, None
    hazard.reopen_count += 1


def _transition(
    ctx: WorkflowContext,
    hazard_id: int,
    action: Action,
    actor: Actor,
    reason: str | None = None,
    note_keys: Sequence[str] = (),
) -> HazardView:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        _step(uow, hazard, action, actor, now, reason)
        if note_keys:
            uow.repo.append_evidence(hazard, EvidenceKind.NOTE.value, note_keys, actor.name, now)
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


def register(ctx: WorkflowContext, hazard_id: int, actor: Actor) -> HazardView:
    return _transition(ctx, hazard_id, Action.REGISTER, actor)


def dispatch(ctx: WorkflowContext, hazard_id: int, actor: Actor, assignee: str | None = None) -> HazardView:
    return _transition(
        ctx, hazard_id, Action.DISPATCH, actor, f"assigned to {assignee}" if assignee else None
    )


def start(ctx: WorkflowContext, hazard_id: int, actor: Actor) -> HazardView:
    return _transition(ctx, hazard_id, Action.START, actor)


def rectify(
    ctx: WorkflowContext,
    hazard_id: int,
    actor: Actor,
    after_evidence_keys: Sequence[str],
    verification: VerificationOutcome | None,
) -> HazardView:
    """Rectified: after photos appended (the before photos stay untouched), plus an optional verification."""
    if not after_evidence_keys:
        raise InvalidInput("rectification needs at least one after photo")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        _step(uow, hazard, Action.RECTIFY, actor, now)
        uow.repo.append_evidence(hazard, EvidenceKind.AFTER_PHOTO.value, after_evidence_keys, actor.name, now)
        if verification is not None:
            uow.repo.append_evidence(
                hazard, EvidenceKind.VERIFICATION.value, (), actor.name, now, verification.to_json()
            )
        hazard.rectified_by, hazard.rectified_at = actor.user_id, now
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


def _require_not_rectifier(hazard: HazardRow, actor: Actor) -> None:
    if actor.user_id is None or actor.user_id == hazard.rectified_by:
        raise Unauthorised("the reviewer must not be the person who rectified the hazard")


def review(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, approve: bool, reason: str | None = None
) -> HazardView:
    """Approve (→ reviewed) or reject (→ back to in_rectification). Never before rectification."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        action = Action.APPROVE if approve else Action.REJECT
        authorise(edge_for(HazardState(hazard.state), action), actor)
        _require_not_rectifier(hazard, actor)
        if not approve and not reason:
            raise InvalidInput("a rejection needs a reason")
        _step(uow, hazard, action, actor, now, reason)
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


def close(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, override_reason: str | None = None
) -> HazardView:
    """Close a reviewed hazard. If the latest verification is not "resolved", only a reviewer (not the
    rectifier) may close it, with a recorded override reason."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        authorise(edge_for(HazardState(hazard.state), Action.CLOSE), actor)
        latest = uow.repo.latest_evidence(hazard.id, EvidenceKind.VERIFICATION.value)
        verdict = VerificationOutcome.from_json(latest.payload).verdict if latest and latest.payload else None
        if verdict is not None and verdict is not Verdict.RESOLVED:
            if not override_reason:
                raise EvidenceRuleViolation(
                    f"latest verification says {verdict.value}; closing needs a reviewer's override reason"
                )
            if actor.role.value not in ("reviewer", "admin"):
                raise Unauthorised("only a reviewer or admin may override a failed verification")
            _require_not_rectifier(hazard, actor)
            payload = canonical_payload({"override_reason": override_reason, "verdict": verdict.value})
            uow.repo.append_evidence(hazard, EvidenceKind.OVERRIDE.value, (), actor.name, now, payload)
        _step(uow, hazard, Action.CLOSE, actor, now, override_reason)
        hazard.closed_at = now
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


def reopen(ctx: WorkflowContext, hazard_id: int, actor: Actor, reason: str) -> HazardView:
    if not reason:
        raise InvalidInput("reopening needs a reason")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        _reopen(uow, ctx, hazard, actor, now, reason)
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


def add_note(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, object_keys: Sequence[str], text: str
) -> int:
    """Append a note (and optional photos) to any hazard; returns the evidence sequence number."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = uow.repo.hazard(hazard_id)
        row = uow.repo.append_evidence(
            hazard, EvidenceKind.NOTE.value, object_keys, actor.name, now, canonical_payload({"text": text})
        )
        uow.repo.append_audit(
            now, actor.name, "hazard.note", "hazard", str(hazard.id), canonical_payload({"seq": row.seq})
        )
        uow.flush()
        uow.commit()
        return row.seq
