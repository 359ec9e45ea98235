"""Injectable clock: the domain never calls ``datetime.now`` itself, so deadlines are testable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from workflow.domain.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A settable clock for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise InvalidInput("a clock only moves forward")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = require_aware(moment, "moment")


def require_aware(moment: datetime, name: str) -> datetime:
    """Reject naive datetimes (ambiguous across plants/time zones) and normalise to UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)
