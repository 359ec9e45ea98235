"""Bounded path/query parameters shared by the routers: database integers cannot hold arbitrary Python
ints (SQLite and PostgreSQL overflow above 64/32 bits), so ids and offsets are range-checked up front."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ROW_ID = 2**31 - 1
MAX_OFFSET = 10_000_000

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="numeric id")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
