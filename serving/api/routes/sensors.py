"""``/api/v1/sensors``: sensor definitions (tiers, hysteresis, debounce, staleness) and HTTP readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.params import PlausibleDatetime
from serving.api.routes.alerts import AlertOut
from serving.api.routes.ops_common import camera_board
from serving.bootstrap import Container
from serving.bus.messages import SensorReading
from serving.pipelines.camera_board import CameraBoard
from serving.pipelines.sensor_alerts import SensorAlerts
from workflow.domain.errors import NotFound
from workflow.domain.roles import Actor, Role
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.orm import SensorRow
from workflow.services.sensors import define_sensor

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])
# Sensor ids travel in MQTT topics too: one plain topic level.
SensorId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class SensorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str = Field(min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=16)
    # Rising thresholds of tiers 2, 3, ... (e.g. Cl2 ppm: [1, 3]); a tier is left below rising - hysteresis.
    thresholds: list[Finite] = Field(min_length=1, max_length=8)
    hysteresis: Finite = Field(default=0.0, ge=0)
    debounce_s: Finite = Field(default=0.0, ge=0, le=86_400)
    stale_after_s: Finite = Field(default=300.0, gt=0, le=7 * 86_400)
    min_value: Finite | None = 0.0
    max_value: Finite | None = None


class ThresholdOut(BaseModel):
    tier: int
    rising: float
    falling: float


class SensorOut(BaseModel):
    id: str
    zone: str
    unit: str
    thresholds: list[ThresholdOut]
    debounce_s: float
    stale_after_s: float
    min_value: float | None
    max_value: float | None
    tier: int
    last_value: float | None
    last_at: datetime | None
    stale: bool

    @classmethod
    def of(cls, r: SensorRow) -> SensorOut:
        return cls(
            id=r.id,
            zone=r.zone,
            unit=r.unit,
            thresholds=[
                ThresholdOut(tier=t.tier, rising=t.rising, falling=t.falling)
                for t in SensorDefinition.thresholds_from_json(r.thresholds)
            ],
            debounce_s=r.debounce_s,
            stale_after_s=r.stale_after_s,
            min_value=r.min_value,
            max_value=r.max_value,
            tier=r.tier,
            last_value=r.last_value,
            last_at=r.last_at,
            stale=r.stale,
        )


class ReadingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Finite
    at: PlausibleDatetime | None = None  # default: the server's time of receipt


class ReadingOut(BaseModel):
    alerts: list[AlertOut]


def _read(container: Container, sensor_id: str) -> SensorOut:
    with container.workflow.uow() as uow:
        row = uow.session.get(SensorRow, sensor_id)
        if row is None:
            raise NotFound(f"unknown sensor {sensor_id!r}")
        return SensorOut.of(row)


@router.get("", response_model=list[SensorOut], responses=error_responses())
def list_sensors(
    _actor: Actor = Depends(current_actor), container: Container = Depends(container_of)
) -> list[SensorOut]:
    with container.workflow.uow() as uow:
        return [SensorOut.of(r) for r in uow.session.scalars(select(SensorRow).order_by(SensorRow.id))]


@router.get("/{sensor_id}", response_model=SensorOut, responses=error_responses(404, 422))
def get_sensor(
    sensor_id: SensorId, _actor: Actor = Depends(current_actor), container: Container = Depends(container_of)
) -> SensorOut:
    return _read(container, sensor_id)


@router.put("/{sensor_id}", response_model=SensorOut, responses=error_responses(403, 422))
def put_sensor(
    sensor_id: SensorId,
    body: SensorIn,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> SensorOut:
    """Define a sensor or change its definition (its current tier is kept)."""
    definition = SensorDefinition(
        sensor_id,
        body.zone,
        body.unit,
        tiers_with_hysteresis(tuple(body.thresholds), body.hysteresis),
        timedelta(seconds=body.debounce_s),
        timedelta(seconds=body.stale_after_s),
        body.min_value,
        body.max_value,
    )
    define_sensor(container.workflow, definition, actor)
    return _read(container, sensor_id)


@router.post("/{sensor_id}/readings", response_model=ReadingOut, responses=error_responses(403, 404, 422))
def post_reading(
    sensor_id: SensorId,
    body: ReadingIn,
    _actor: Actor = Depends(require_roles(Role.INSPECTOR, Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
    board: CameraBoard = Depends(camera_board),
) -> ReadingOut:
    """Ingest one reading; returns the alerts it raised (a tier change; tier ≥ 2 also opens a hazard)."""
    reading = SensorReading(sensor_id=sensor_id, value=body.value, timestamp=body.at or datetime.now(UTC))
    max_age = timedelta(seconds=container.settings.monitor.snapshot_max_age_s)
    pipeline = SensorAlerts(container.workflow, container.bus, board, snapshot_max_age=max_age)
    return ReadingOut(alerts=[AlertOut.of(a) for a in pipeline.handle(reading)])
