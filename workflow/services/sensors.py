"""Sensor use cases: define, ingest a reading (tier change → alert, tier ≥ 2 → hazard), stale sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from workflow.domain.audit import canonical_payload
from workflow.domain.clock import require_aware
from workflow.domain.errors import DomainError, InvalidInput, NotFound
from workflow.domain.observations import Observation, SourceKind, check_not_future
from workflow.domain.roles import SYSTEM, Actor
from workflow.domain.sensors import SensorDefinition, SensorState, is_stale, step, validate_reading
from workflow.persistence.orm import AlertRow, SensorRow
from workflow.persistence.uow import UnitOfWork
from workflow.services.context import WorkflowContext
from workflow.services.hazards import ingest_in
from workflow.services.races import retry_races

HAZARD_TIER = 2


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str  # sensor.tier | sensor.stale | permit.understaffed | permit.overstaffed | camera.*
    sensor_id: str | None
    zone: str
    tier: int | None
    previous_tier: int | None
    value: float | None
    at: datetime
    acknowledged: bool
    hazard_id: int | None
    message: str
    camera_id: str | None = None

    @classmethod
    def of(cls, r: AlertRow) -> Alert:
        return cls(
            r.id,
            r.kind,
            r.sensor_id,
            r.zone,
            r.tier,
            r.previous_tier,
            r.value,
            r.at,
            r.acknowledged,
            r.hazard_id,
            r.message,
            r.camera_id,
        )


def _definition(r: SensorRow) -> SensorDefinition:
    return SensorDefinition(
        r.id,
        r.zone,
        r.unit,
        SensorDefinition.thresholds_from_json(r.thresholds),
        timedelta(seconds=r.debounce_s),
        timedelta(seconds=r.stale_after_s),
        r.min_value,
        r.max_value,
    )


def _state(r: SensorRow) -> SensorState:
    # The step and the checks read the tier, the candidate and last_at; last_value and stale are carried for
    # completeness (a reading clears stale whatever it was), so mutating those two is equivalent.
    return SensorState(
        r.tier,
        r.candidate_tier,
        r.candidate_since,
        r.last_value,  # pragma: no mutate
        r.last_at,
        r.stale,  # pragma: no mutate
    )


def _attempt_define_sensor(ctx: WorkflowContext, d: SensorDefinition, actor: Actor) -> SensorDefinition:
    """Create or update a sensor's definition (its live tier state is kept)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = uow.session.get(SensorRow, d.sensor_id)
        if row is None:
            row = SensorRow(id=d.sensor_id, tier=1, stale=False)  # pragma: no mutate (the columns default so)
            uow.session.add(row)
        row.zone, row.unit, row.thresholds = d.zone, d.unit, d.thresholds_json()
        row.debounce_s, row.stale_after_s = d.debounce.total_seconds(), d.stale_after.total_seconds()
        row.min_value, row.max_value = d.min_value, d.max_value
        uow.repo.append_audit(
            now,
            actor.name,
            "sensor.define",
            "sensor",
            d.sensor_id,
            canonical_payload({"thresholds": d.thresholds_json()}),
        )
        uow.commit()
        return d


define_sensor = retry_races(_attempt_define_sensor)


@dataclass(frozen=True, slots=True)
class Reading:
    sensor_id: str
    value: float
    at: datetime


@dataclass(frozen=True, slots=True)
class ReadingOutcome:
    """What one reading of a batch did: its alerts, or why it was refused (nothing was written for it)."""

    alerts: tuple[Alert, ...] = ()
    refused: str | None = None


def _attempt_ingest_reading(ctx: WorkflowContext, sensor_id: str, value: float, at: datetime) -> list[Alert]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        rows = _locked_rows(uow, {sensor_id})
        row, at = _checked(rows, ctx, Reading(sensor_id, value, at), now)
        alerts = _apply(uow, ctx, row, value, at, now)
        uow.commit()
        return alerts


ingest_reading = retry_races(_attempt_ingest_reading)


def ingest_readings(ctx: WorkflowContext, readings: Sequence[Reading]) -> list[ReadingOutcome]:
    """Many readings in one transaction, in order (the MQTT intake's group commit: one commit per batch
    instead of one per reading). A refused reading writes nothing and the others go on; the outcome of
    each is returned. Should a write fail after its checks passed, every reading runs in its own
    transaction instead, so one bad reading never takes the batch with it."""
    try:
        return _ingest_batch(ctx, readings)
    except _LateRefusalError:
        return [_ingest_alone(ctx, reading) for reading in readings]


class _LateRefusalError(Exception):
    """A domain rule refused a reading after some of the batch's writes: the batch is rolled back."""


def _attempt_ingest_batch(ctx: WorkflowContext, readings: Sequence[Reading]) -> list[ReadingOutcome]:
    now = ctx.clock.now()
    outcomes = []
    with ctx.uow() as uow:
        rows = _locked_rows(uow, {r.sensor_id for r in readings})
        for reading in readings:
            try:
                row, at = _checked(rows, ctx, reading, now)
            except DomainError as exc:
                outcomes.append(ReadingOutcome(refused=str(exc)))
                continue
            try:
                alerts = _apply(uow, ctx, row, reading.value, at, now)
            except DomainError as exc:
                # Not mutated: the message is dropped (the batch reruns its readings one by one).
                raise _LateRefusalError(str(exc)) from exc  # pragma: no mutate
            outcomes.append(ReadingOutcome(tuple(alerts)))
        uow.commit()
    return outcomes


_ingest_batch = retry_races(_attempt_ingest_batch)


def _ingest_alone(ctx: WorkflowContext, reading: Reading) -> ReadingOutcome:
    try:
        return ReadingOutcome(tuple(ingest_reading(ctx, reading.sensor_id, reading.value, reading.at)))
    except DomainError as exc:
        return ReadingOutcome(refused=str(exc))


def _locked_rows(uow: UnitOfWork, sensor_ids: set[str]) -> dict[str, SensorRow]:
    """The sensors' rows in one locking query (a reading updates its sensor's tier state)."""
    uow.repo.begin_write()
    query = select(SensorRow).where(SensorRow.id.in_(sorted(sensor_ids))).with_for_update()
    return {row.id: row for row in uow.session.scalars(query)}


def _checked(
    rows: dict[str, SensorRow], ctx: WorkflowContext, reading: Reading, now: datetime
) -> tuple[SensorRow, datetime]:
    """The sensor's row and the reading's UTC time; a DomainError (before any write) if refused."""
    at = require_aware(reading.at, "at")
    check_not_future(at, now, ctx.config.max_clock_skew, "reading time")
    row = rows.get(reading.sensor_id)
    if row is None:
        raise NotFound(f"unknown sensor {reading.sensor_id!r}")
    validate_reading(_definition(row), reading.value, at, _state(row))
    return row, at


def _apply(
    uow: UnitOfWork, ctx: WorkflowContext, row: SensorRow, value: float, at: datetime, now: datetime
) -> list[Alert]:
    definition = _definition(row)
    new, change = step(definition, _state(row), float(value), at)
    row.tier, row.candidate_tier, row.candidate_since = new.tier, new.candidate_tier, new.candidate_since
    row.last_value, row.last_at, row.stale = new.last_value, new.last_at, new.stale
    if change is None:
        return []
    sensor_id = row.id
    hazard_id = None
    rising = change.tier > change.previous  # pragma: no mutate (a change always moves the tier: `>=` is `>`)
    if change.tier >= HAZARD_TIER and rising:
        obs = Observation(
            observation_id=f"sensor:{sensor_id}:{at.isoformat()}:tier{change.tier}",
            kind=f"sensor.tier{change.tier}",
            confidence=1.0,
            zone=definition.zone,
            source_kind=SourceKind.SENSOR,
            source_id=sensor_id,
            observed_at=at,
            description=f"{sensor_id}: {value} {definition.unit}, tier {change.tier}",
        )
        hazard_id = ingest_in(uow, ctx, obs).hazard_id
    alert = AlertRow(
        kind="sensor.tier",
        sensor_id=sensor_id,
        zone=definition.zone,
        tier=change.tier,
        previous_tier=change.previous,
        value=float(value),
        at=at,
        hazard_id=hazard_id,
        acknowledged=False,  # pragma: no mutate (the column's default too; stated for the reader)
        message=f"tier {change.previous} → {change.tier} at {value} {definition.unit}",
    )
    uow.session.add(alert)
    uow.flush()
    uow.repo.append_audit(
        now,
        SYSTEM.name,
        "alert.sensor",
        "alert",
        str(alert.id),
        canonical_payload({"sensor": sensor_id, "tier": change.tier}),
    )
    return [Alert.of(alert)]


def _attempt_stale_sweep(ctx: WorkflowContext) -> list[Alert]:
    """One alert per sensor that stopped reporting; it clears with the next reading."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        alerts = []
        for row in uow.session.scalars(
            select(SensorRow).where(SensorRow.stale.is_(False)).order_by(SensorRow.id)
        ):
            if not is_stale(_definition(row), _state(row), now):
                continue
            row.stale = True
            alert = AlertRow(
                kind="sensor.stale",
                sensor_id=row.id,
                zone=row.zone,
                tier=row.tier,
                previous_tier=row.tier,
                value=row.last_value,
                at=now,
                acknowledged=False,  # pragma: no mutate (the column's default too; stated for the reader)
                message=f"no reading since {row.last_at}",
            )
            uow.session.add(alert)
            uow.flush()
            uow.repo.append_audit(
                now, SYSTEM.name, "alert.stale", "alert", str(alert.id), canonical_payload({"sensor": row.id})
            )
            alerts.append(Alert.of(alert))
        uow.commit()
        return alerts


stale_sweep = retry_races(_attempt_stale_sweep)


def _attempt_acknowledge_alert(ctx: WorkflowContext, alert_id: int, actor: Actor) -> Alert:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        # Conditional update: of two racing acknowledgements exactly one changes the row, on SQLite too
        # (whose reads before a write see no lock).
        claim = update(AlertRow).where(AlertRow.id == alert_id, AlertRow.acknowledged.is_(False))
        claimed = uow.session.execute(claim.values(acknowledged=True)).rowcount  # type: ignore[attr-defined]
        # A fresh session holds no stale copy; populate_existing guards a caller's session that would.
        row = uow.session.get(AlertRow, alert_id, populate_existing=True)  # pragma: no mutate
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist")
        if not claimed:
            raise InvalidInput(f"alert {alert_id} is already acknowledged")
        uow.repo.append_audit(now, actor.name, "alert.ack", "alert", str(alert_id), canonical_payload({}))
        uow.commit()
        return Alert.of(row)


acknowledge_alert = retry_races(_attempt_acknowledge_alert)


def list_alerts(ctx: WorkflowContext, *, unacknowledged_only: bool = False, limit: int = 100) -> list[Alert]:
    with ctx.uow() as uow:
        stmt = select(AlertRow).order_by(AlertRow.at.desc(), AlertRow.id.desc()).limit(limit)
        if unacknowledged_only:
            stmt = stmt.where(AlertRow.acknowledged.is_(False))
        return [Alert.of(r) for r in uow.session.scalars(stmt)]
