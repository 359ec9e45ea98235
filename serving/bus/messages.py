"""Typed bus payloads and their parsing; malformed input gets one clear error, never a crash."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Sensor ids travel in topics: keep them to one plain topic level.
_SENSOR_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class PayloadError(ValueError):
    """A bus message that cannot be turned into a typed payload (the reason is in the message)."""


class SensorReading(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensor_id: str
    value: float = Field(allow_inf_nan=False)
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Alert(BaseModel):
    """An alert going out to operators (MQTT ``<prefix>/alerts/<kind>`` and the live UI feed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str
    kind: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    level: int = Field(ge=0, le=9)
    message: str
    created_at: datetime
    sensor_id: str | None = None
    zone: str | None = None


class _SensorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(allow_inf_nan=False)
    timestamp: datetime


def parse_sensor_message(topic: str, payload: bytes, *, prefix: str = "hazardeye") -> SensorReading:
    """``<prefix>/sensors/<id>`` + JSON ``{"value": 1.2, "timestamp": "...ISO 8601..."}``."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != prefix or parts[1] != "sensors" or not _SENSOR_ID.fullmatch(parts[2]):
        raise PayloadError(f"unexpected sensor topic {topic!r}: expected {prefix}/sensors/<id>")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{topic}: payload is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"{topic}: payload must be a JSON object with value and timestamp")
    try:
        body = _SensorBody.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise PayloadError(f"{topic}: {problems}") from exc
    return SensorReading(sensor_id=parts[2], value=body.value, timestamp=body.timestamp)
