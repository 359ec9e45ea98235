"""The injectable clock: aware UTC only, forward only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from workflow.domain.clock import FakeClock, SystemClock, require_aware
from workflow.domain.errors import InvalidInput

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_the_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)


def test_an_aware_time_elsewhere_is_normalised_to_utc() -> None:
    shanghai = datetime(2026, 3, 2, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    normalised = require_aware(shanghai, "at")
    assert normalised == T and normalised.tzinfo is UTC


def test_naive_times_are_refused_with_their_name() -> None:
    with pytest.raises(InvalidInput, match=r"^start must be timezone-aware, got naive 2026-03-02T08:00:00$"):
        FakeClock(datetime(2026, 3, 2, 8, 0))
    clock = FakeClock(T)
    with pytest.raises(InvalidInput, match=r"^moment must be timezone-aware, got naive 2026-03-02T09:00:00$"):
        clock.set(datetime(2026, 3, 2, 9, 0))
    assert clock.now() == T


def test_the_fake_clock_moves_forward_only() -> None:
    clock = FakeClock(T)
    assert clock.advance(timedelta(0)) == T
    assert clock.advance(timedelta(seconds=5)) == T + timedelta(seconds=5) == clock.now()
    with pytest.raises(InvalidInput, match=r"^a clock only moves forward$"):
        clock.advance(timedelta(microseconds=-1))
    clock.set(T)  # set may go back: a test rewinding on purpose
    assert clock.now() == T


class _NoOffset(tzinfo):
    """A time zone that knows no offset: such a time is as ambiguous as a naive one."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return "nowhere"


def test_a_time_zone_without_an_offset_counts_as_naive() -> None:
    with pytest.raises(InvalidInput, match=r"^at must be timezone-aware"):
        require_aware(datetime(2026, 3, 2, 8, 0, tzinfo=_NoOffset()), "at")
