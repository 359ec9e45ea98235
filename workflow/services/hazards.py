"""Hazard use cases: observation intake (create / append / reopen / duplicate) and lifecycle steps."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from workflow.domain.audit import canonical_payload
from workflow.domain.config import WorkflowConfig
from workflow.domain.errors import (
    ClockSkew,
    ConcurrencyConflict,
    DomainError,
    EvidenceRuleViolation,
    InvalidInput,
    Unauthorised,
)
from workflow.domain.evidence import EvidenceKind, Verdict, VerificationOutcome
from workflow.domain.grading import RiskLevel, deadlines_for, grade
from workflow.domain.lifecycle import UNFIXED_STATES, Action, HazardState, authorise, edge_for
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
from workflow.persistence.orm import EvidenceObjectRow, EvidenceRow, HazardEventRow, HazardRow, ObservationRow
from workflow.persistence.uow import UnitOfWork
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races
from workflow.services.views import HazardView

_FIRST_EVIDENCE = {SourceKind.CAMERA: EvidenceKind.SNAPSHOT, SourceKind.SENSOR: EvidenceKind.SENSOR_READING}


def ingest_observation(ctx: WorkflowContext, obs: Observation) -> IngestResult:
    """Idempotent: the same observation_id twice returns DUPLICATE with the original hazard id."""
    return ingest_observations(ctx, (obs,))[0]


def ingest_observations(ctx: WorkflowContext, batch: Sequence[Observation]) -> list[IngestResult]:
    """Several observations (e.g. all findings of one camera poll) in one transaction: all or nothing.

    Same decisions as ``ingest_observation`` one after the other, in order; a repeated id inside the batch
    is a duplicate. A batch costs about ten statements whatever its size (reads keyed by the whole batch,
    one executemany per table) and one commit, which is what bounds the intake rate.
    """
    now = ctx.clock.now()
    for obs in batch:  # refuse the whole batch before writing anything
        check_not_future(obs.observed_at, now, ctx.config.max_clock_skew, "observed_at")
    return _ingest_once(ctx, batch, now)


def _attempt_ingest_once(
    ctx: WorkflowContext, batch: Sequence[Observation], now: datetime
) -> list[IngestResult]:
    # A lost race (a concurrent request stored one of these observation ids first, or moved the hazard's
    # version) runs again: the next attempt sees the stored ids as duplicates and the hazard as it is now.
    with ctx.uow() as uow:
        results = _ingest_all(uow, ctx, batch, now)
        uow.commit()
        return results


_ingest_once = retry_races(_attempt_ingest_once)


def ingest_in(uow: UnitOfWork, ctx: WorkflowContext, obs: Observation) -> IngestResult:
    """The same decision inside a caller's unit of work (sensor and permit use cases)."""
    return _ingest_all(uow, ctx, (obs,), ctx.clock.now())[0]


@dataclass(eq=False, slots=True)
class _Target:
    """A hazard the batch writes evidence to: an existing row, or one to create (``row`` set on insert).

    Decisions read ``last_seen``/``repeat_flag`` from here, so later observations of the batch see the
    effect of earlier ones without a flush in between.
    """

    row: HazardRow | None
    repeat_key: str
    last_seen: datetime
    repeat_flag: bool
    evidence_added: int = 0
    # One evidence item per image: findings of one photo that land here share the first one's item.
    items: dict[tuple[str, ...], _Plan] = field(default_factory=dict)


@dataclass(slots=True)
class _Plan:
    obs: Observation
    status: IngestStatus
    area: str = ""
    target: _Target | None = None
    stored_hazard_id: int | None = None  # a duplicate of an observation stored before this batch
    evidence_owner: bool = False  # writes the evidence item (its own box and its companions')
    companions: list[Observation] = field(default_factory=list)

    @property
    def hazard_id(self) -> int | None:
        if self.target is None:
            return self.stored_hazard_id
        assert self.target.row is not None
        return self.target.row.id

    @property
    def repeat_flagged(self) -> bool:
        if self.status is IngestStatus.DUPLICATE or self.target is None:
            return False
        return self.target.repeat_flag


def _opens_hazard(obs: Observation, cfg: WorkflowConfig) -> bool:
    return obs.kind != PPE_OK_KIND and obs.confidence >= cfg.min_confidence


def _ingest_all(
    uow: UnitOfWork, ctx: WorkflowContext, batch: Sequence[Observation], now: datetime
) -> list[IngestResult]:
    """Plan every decision in memory from a few batch-wide reads, then write everything in order."""
    plans = _plan(uow, ctx, batch, now)
    _grade_repeats(uow, ctx, plans)
    _settle_hazards(uow, ctx, plans, now)
    rows = _Rows()
    for i, plan in enumerate(plans):
        try:
            _write(uow, ctx, plan, now, rows)
        except DomainError as exc:
            if len(batch) == 1:
                raise
            raise type(exc)(
                f"observation {plan.obs.observation_id!r} (item {i + 1} of {len(batch)}): {exc}; "
                "nothing from this batch was stored"
            ) from exc
    for group in (rows.events, rows.observations, rows.evidence, rows.evidence_objects):
        uow.repo.insert_rows(group)
    uow.repo.write_deferred_audit()
    return [IngestResult(p.status, p.hazard_id, p.repeat_flagged) for p in plans]


def _plan(uow: UnitOfWork, ctx: WorkflowContext, batch: Sequence[Observation], now: datetime) -> list[_Plan]:
    cfg = ctx.config
    stored = uow.repo.known_observations({o.observation_id for o in batch})
    areas = uow.repo.zone_areas({o.zone for o in batch})
    candidates = [o for o in batch if _opens_hazard(o, cfg)]
    open_rows = uow.repo.open_hazards_for({dedup_key(o) for o in candidates})
    closed = uow.repo.closed_hazards_at_equipment(
        {(o.kind, o.equipment_id) for o in candidates if o.equipment_id}, now - cfg.reopen_window
    )
    known: dict[int, _Target] = {}

    def existing(row: HazardRow) -> _Target:
        if row.id not in known:
            known[row.id] = _Target(row, row.repeat_key, row.last_seen_at, row.repeat_flag)
        return known[row.id]

    open_by_key = {key: existing(row) for key, row in open_rows.items()}
    first: dict[str, _Plan] = {}
    plans: list[_Plan] = []
    for obs in batch:
        oid = obs.observation_id
        # Equivalent mutants below: a duplicate's obs is never read; ``closed`` and ``target.items`` hold
        # only equipment / evidence keys, so looking up a key without one finds nothing either way.
        if oid in stored:
            held_id = stored[oid]
            plans.append(_Plan(obs, IngestStatus.DUPLICATE, stored_hazard_id=held_id))  # pragma: no mutate
            continue
        if oid in first:
            plans.append(_Plan(obs, IngestStatus.DUPLICATE, target=first[oid].target))  # pragma: no mutate
            continue
        area = areas.get(obs.zone, obs.area or obs.zone)
        plan = first[oid] = _Plan(obs, IngestStatus.RECORDED, area)
        plans.append(plan)
        if not _opens_hazard(obs, cfg):
            continue
        key = dedup_key(obs)
        target = open_by_key.get(key)
        equipment = obs.equipment_id
        reopenable = closed.get((obs.kind, equipment)) if equipment else None  # pragma: no mutate
        if target is not None and obs.observed_at - target.last_seen <= cfg.dedup_window:
            plan.status = IngestStatus.APPENDED
        elif reopenable:
            plan.status, target = IngestStatus.REOPENED, existing(reopenable.pop(0))
            assert target.row is not None
            held = open_by_key.get(target.row.dedup_key)  # open again: later observations may append
            if held is None or max(target.last_seen, obs.observed_at) >= held.last_seen:
                open_by_key[target.row.dedup_key] = target
        else:
            rkey = repeat_key(obs.kind, obs.equipment_id, area)
            # repeat_flag is set by _grade_repeats before anything reads it: its initial value is equivalent.
            fresh = _Target(None, rkey, obs.observed_at, False)  # pragma: no mutate
            plan.status, target = IngestStatus.CREATED, fresh
            open_by_key[key] = target
        target.last_seen = max(target.last_seen, obs.observed_at)
        plan.target = target
        owner = target.items.get(obs.evidence_keys) if obs.evidence_keys else None  # pragma: no mutate
        if owner is not None:
            owner.companions.append(obs)
            continue
        plan.evidence_owner = True
        target.evidence_added += 1
        if obs.evidence_keys:
            target.items[obs.evidence_keys] = plan
    return plans


# A reopen moves a closed hazard back among the unresolved ones (counted by the repeat rule).
_REOPEN_UNRESOLVED = int(edge_for(HazardState.CLOSED, Action.REOPEN).target in UNFIXED_STATES) - int(
    HazardState.CLOSED in UNFIXED_STATES
)


def _grade_repeats(uow: UnitOfWork, ctx: WorkflowContext, plans: Sequence[_Plan]) -> None:
    """Repeat flags for the hazards the batch creates: stored counts (one query) plus the batch's own
    earlier creations and reopens, so each counts exactly what a one-by-one intake would have seen."""
    window = ctx.config.repeats.window
    created = [p for p in plans if p.status is IngestStatus.CREATED]
    stored = iter(
        uow.repo.repeat_counts_many([(_tgt(p).repeat_key, p.obs.observed_at - window) for p in created])
    )
    unresolved: Counter[str] = Counter()
    born: defaultdict[str, list[datetime]] = defaultdict(list)
    for plan in plans:
        if plan.status is IngestStatus.REOPENED:
            unresolved[_tgt(plan).repeat_key] += _REOPEN_UNRESOLVED
        elif plan.status is IngestStatus.CREATED:
            target, since = _tgt(plan), plan.obs.observed_at - window
            stored_unresolved, stored_in_window = next(stored)
            in_window = stored_in_window + sum(1 for at in born[target.repeat_key] if at >= since)
            target.repeat_flag = is_repeat(
                stored_unresolved + unresolved[target.repeat_key] + 1, in_window + 1, ctx.config.repeats
            )
            unresolved[target.repeat_key] += 1
            born[target.repeat_key].append(plan.obs.observed_at)


def _tgt(plan: _Plan) -> _Target:
    assert plan.target is not None
    return plan.target


def _settle_hazards(uow: UnitOfWork, ctx: WorkflowContext, plans: Sequence[_Plan], now: datetime) -> None:
    """Final evidence count and last-seen time of every hazard the batch touches: new hazards are inserted
    with them (one flush, which assigns their ids), stored ones get them in one versioned update."""
    cfg = ctx.config
    rows: list[HazardRow] = []
    bumps: list[tuple[HazardRow, int, datetime]] = []
    done: set[int] = set()
    for plan in plans:
        target = plan.target
        if plan.status is IngestStatus.DUPLICATE or target is None or id(target) in done:
            continue
        done.add(id(target))
        if target.row is not None:
            row = target.row
            bumps.append(
                (row, row.evidence_count + target.evidence_added, max(row.last_seen_at, target.last_seen))
            )
            continue
        obs = plan.obs
        likelihood = obs.likelihood or cfg.risk_for(obs.kind)[0]
        severity = obs.severity or cfg.risk_for(obs.kind)[1]
        level = grade(likelihood, severity, cfg.grading)
        due = deadlines_for(level, obs.observed_at, cfg.grading)
        target.row = HazardRow(
            kind=obs.kind,
            zone=obs.zone,
            area=plan.area,
            equipment_id=obs.equipment_id,
            source_kind=obs.source_kind.value,
            source_id=obs.source_id,
            dedup_key=dedup_key(obs),
            repeat_key=target.repeat_key,
            state=HazardState.DISCOVERED.value,
            likelihood=likelihood,
            severity=severity,
            level=level.value,
            level_rank=level.rank,
            escalation_level=1 if target.repeat_flag else 0,
            repeat_flag=target.repeat_flag,
            description=obs.description,
            discovered_at=obs.observed_at,
            notify_by=due.notify_by,
            respond_by=due.respond_by,
            fix_by=due.fix_by,
            last_seen_at=target.last_seen,  # final values: the insert needs no follow-up update
            evidence_count=target.evidence_added,
            reopen_count=0,  # pragma: no mutate (the column's default is 0 too)
            updated_at=now,
        )
        rows.append(target.row)
    if rows:
        uow.repo.add_hazards(rows)
    uow.repo.bump_hazards(bumps)


@dataclass(slots=True)
class _Rows:
    """Append-only rows of a batch, written with one insert per table after the loop."""

    events: list[HazardEventRow] = field(default_factory=list)
    observations: list[ObservationRow] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    evidence_objects: list[EvidenceObjectRow] = field(default_factory=list)


def _write(uow: UnitOfWork, ctx: WorkflowContext, plan: _Plan, now: datetime, rows: _Rows) -> None:
    """Rows for one observation, in intake order (so events and the audit chain follow that order)."""
    if plan.status is IngestStatus.DUPLICATE:
        return
    obs, target = plan.obs, plan.target
    hazard = target.row if target is not None else None
    reporter = obs.reported_by or SYSTEM.name
    if plan.status is IngestStatus.REOPENED:
        assert hazard is not None
        _reopen(uow, ctx, hazard, SYSTEM, now, f"new occurrence {obs.observation_id}")
    elif plan.status is IngestStatus.CREATED:
        assert hazard is not None
        rows.events.append(
            HazardEventRow(
                hazard_id=hazard.id,
                action="discover",
                from_state=None,  # pragma: no mutate (the column's default)
                to_state=HazardState.DISCOVERED.value,
                actor_id=None,  # pragma: no mutate (the column's default)
                actor_name=reporter,
                actor_role=SYSTEM.role.value,
                at=now,
                reason="repeat hazard: escalated" if hazard.repeat_flag else None,
            )
        )
    rows.observations.append(
        ObservationRow(
            observation_id=obs.observation_id,
            hazard_id=hazard.id if hazard else None,
            kind=obs.kind,
            zone=obs.zone,
            area=plan.area,
            source_kind=obs.source_kind.value,
            source_id=obs.source_id,
            confidence=float(obs.confidence),
            observed_at=obs.observed_at,
            status=plan.status.value,
        )
    )
    if target is None or hazard is None:  # pragma: no mutate (one is None exactly when the other is)
        return
    if plan.evidence_owner:
        _write_evidence(uow, plan, target, hazard, rows)
    uow.repo.append_audit(
        now,
        reporter,
        f"observation.{plan.status.value}",
        "hazard",
        str(hazard.id),
        canonical_payload({"observation_id": obs.observation_id, "kind": obs.kind}),
        defer=True,  # pragma: no mutate (when the row is inserted, not what it says)
    )


def _box_text(box: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:g}" for v in box)


def _write_evidence(uow: UnitOfWork, plan: _Plan, target: _Target, hazard: HazardRow, rows: _Rows) -> None:
    """The evidence item of one image: every box the batch found there for this hazard (``box`` is the
    first, ``boxes`` all of them when there are several)."""
    obs = plan.obs
    target.evidence_added -= 1  # counts down to 0: the evidence numbers still to hand out
    kind = _FIRST_EVIDENCE.get(obs.source_kind, EvidenceKind.BEFORE_PHOTO)
    seen = (obs, *plan.companions)
    data: dict[str, str | int | float | bool | None] = {
        "confidence": max(float(o.confidence) for o in seen),
        "box": _box_text(obs.box) if obs.box else None,
        "description": obs.description,
        "reported_by": obs.reported_by,
    }
    if len(seen) > 1:
        data["detections"] = len(seen)
        data["boxes"] = ";".join(_box_text(o.box) for o in seen if o.box)
    payload = canonical_payload(data)
    rows.evidence.append(
        uow.repo.new_evidence(
            hazard.id,
            hazard.evidence_count - target.evidence_added,  # the counts were settled before the writes
            kind.value,
            obs.evidence_keys,
            obs.reported_by or obs.source_id,
            obs.observed_at,
            payload,
            obs.observation_id,
        )
    )
    rows.evidence_objects += uow.repo.object_refs(hazard.id, obs.evidence_keys)


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


def require_version(hazard_id: int, actual: int, expected: int | None) -> None:
    """Refuse a step taken on a stale view of the hazard (``expected`` None: the caller did not say)."""
    if expected is not None and actual != expected:
        raise ConcurrencyConflict(
            f"hazard {hazard_id} is at version {actual}, not {expected}; reload and retry"
        )


def _hazard_at(uow: UnitOfWork, hazard_id: int, expected_version: int | None) -> HazardRow:
    """The hazard as the caller saw it; the row's version column then guards the rest of the transaction."""
    hazard = uow.repo.hazard(hazard_id)
    require_version(hazard_id, hazard.version, expected_version)
    return hazard


def _attempt_transition(
    ctx: WorkflowContext,
    hazard_id: int,
    action: Action,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
) -> HazardView:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = _hazard_at(uow, hazard_id, expected_version)
        _step(uow, hazard, action, actor, now, reason)
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


_transition = retry_races(_attempt_transition)


def register(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, *, expected_version: int | None = None
) -> HazardView:
    return _transition(ctx, hazard_id, Action.REGISTER, actor, expected_version=expected_version)


def dispatch(
    ctx: WorkflowContext,
    hazard_id: int,
    actor: Actor,
    assignee: str | None = None,
    *,
    expected_version: int | None = None,
) -> HazardView:
    reason = f"assigned to {assignee}" if assignee else None
    return _transition(ctx, hazard_id, Action.DISPATCH, actor, reason, expected_version=expected_version)


def start(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, *, expected_version: int | None = None
) -> HazardView:
    return _transition(ctx, hazard_id, Action.START, actor, expected_version=expected_version)


def _attempt_rectify(
    ctx: WorkflowContext,
    hazard_id: int,
    actor: Actor,
    after_evidence_keys: Sequence[str],
    verification: VerificationOutcome | None,
    *,
    verification_keys: Sequence[str] = (),
    verification_queued: bool = False,
    expected_version: int | None = None,
) -> HazardView:
    """Rectified: after photos appended (the before photos stay untouched), plus an optional verification
    carrying ``verification_keys`` (its side-by-side image), all in one transaction."""
    if not after_evidence_keys:
        raise InvalidInput("rectification needs at least one after photo")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = _hazard_at(uow, hazard_id, expected_version)
        _step(uow, hazard, Action.RECTIFY, actor, now)
        marker = canonical_payload({"verification": PENDING}) if verification_queued else None
        uow.repo.append_evidence(
            hazard, EvidenceKind.AFTER_PHOTO.value, after_evidence_keys, actor.name, now, marker
        )
        if verification is not None:
            uow.repo.append_evidence(
                hazard,
                EvidenceKind.VERIFICATION.value,
                verification_keys,
                actor.name,
                now,
                verification.to_json(),
            )
        hazard.rectified_by, hazard.rectified_at = actor.user_id, now
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


rectify = retry_races(_attempt_rectify)


def _require_not_rectifier(hazard: HazardRow, actor: Actor) -> None:
    if actor.user_id is None or actor.user_id == hazard.rectified_by:
        raise Unauthorised("the reviewer must not be the person who rectified the hazard")


def _attempt_review(
    ctx: WorkflowContext,
    hazard_id: int,
    actor: Actor,
    approve: bool,
    reason: str | None = None,
    *,
    expected_version: int | None = None,
) -> HazardView:
    """Approve (→ reviewed) or reject (→ back to in_rectification). Never before rectification."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = _hazard_at(uow, hazard_id, expected_version)
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


review = retry_races(_attempt_review)


def _attempt_close(
    ctx: WorkflowContext,
    hazard_id: int,
    actor: Actor,
    override_reason: str | None = None,
    *,
    expected_version: int | None = None,
) -> HazardView:
    """Close a reviewed hazard. If the latest verification is not "resolved", only a reviewer (not the
    rectifier) may close it, with a recorded override reason."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = _hazard_at(uow, hazard_id, expected_version)
        authorise(edge_for(HazardState(hazard.state), Action.CLOSE), actor)
        verdict = _verdict_for_latest_after_photo(uow, hazard.id)
        if verdict is not None and verdict != Verdict.RESOLVED.value:
            if not override_reason:
                raise EvidenceRuleViolation(
                    f"latest verification says {verdict}; closing needs a reviewer's override reason"
                )
            if actor.role.value not in ("reviewer", "admin"):
                raise Unauthorised("only a reviewer or admin may override a failed verification")
            _require_not_rectifier(hazard, actor)
            payload = canonical_payload({"override_reason": override_reason, "verdict": verdict})
            uow.repo.append_evidence(hazard, EvidenceKind.OVERRIDE.value, (), actor.name, now, payload)
        _step(uow, hazard, Action.CLOSE, actor, now, override_reason)
        hazard.closed_at = now
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


close = retry_races(_attempt_close)


# Marks an after photo whose verification was queued (Celery) rather than run in the request.
PENDING = "pending"


def _verdict_for_latest_after_photo(uow: UnitOfWork, hazard_id: int) -> str | None:
    """The verdict of the verification recorded for the latest after photo; ``"pending"`` while a queued
    verification has not reported (it must not let a hazard close unchecked); None when none was asked."""
    latest = uow.repo.latest_evidence(hazard_id, EvidenceKind.VERIFICATION.value)
    after = uow.repo.latest_evidence(hazard_id, EvidenceKind.AFTER_PHOTO.value)
    if latest is not None and latest.payload and (after is None or latest.seq > after.seq):
        return VerificationOutcome.from_json(latest.payload).verdict.value
    if after is not None and after.payload and json.loads(after.payload).get("verification") == PENDING:
        return PENDING
    return None


def _attempt_reopen(
    ctx: WorkflowContext, hazard_id: int, actor: Actor, reason: str, *, expected_version: int | None = None
) -> HazardView:
    if not reason:
        raise InvalidInput("reopening needs a reason")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        hazard = _hazard_at(uow, hazard_id, expected_version)
        _reopen(uow, ctx, hazard, actor, now, reason)
        uow.flush()
        view = HazardView.of(hazard)
        uow.commit()
        return view


reopen = retry_races(_attempt_reopen)


def _attempt_add_note(
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


add_note = retry_races(_attempt_add_note)
