"""Bounded path/query parameters shared by the routers: database integers cannot hold arbitrary Python
ints (SQLite and PostgreSQL overflow above 64/32 bits), so ids and offsets are range-checked up front."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime

MAX_ROW_ID = 2**31 - 1
MAX_OFFSET = 10_000_000

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="numeric id")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]

# Times and days the domain can compute with: deadlines and windows are added to them, and a year-9999
# permit or a year-1 reading would overflow Python's datetime (a 500) instead of being refused (a 422).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


def _plausible_day(value: date) -> date:
    if not EARLIEST.date() <= value <= LATEST.date():
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()}")
    return value


PlausibleDatetime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]
PlausibleDate = Annotated[date, AfterValidator(_plausible_day)]
