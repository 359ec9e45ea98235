"""A photo queued with no news for ``stuck_after`` lost its task: the sweep's query finds it, at the
boundary and not before; done and failed photos are never "stuck"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.domain.clock import FakeClock
from workflow.services.context import WorkflowContext
from workflow.services.photos import NewPhoto, PhotoStatus, record_failure, record_upload, stuck_photos

pytestmark = pytest.mark.integration
STUCK = timedelta(seconds=600)


def _photo(n: int) -> NewPhoto:
    return NewPhoto(
        photo_id=f"{n:064x}", upload_sha256=f"{n:064x}", original_key=f"{n:064x}", media_type="image/jpeg",
        width=640, height=480, taken_at=None, gps_lat=None, gps_lon=None, zone="z1", area=None,
        equipment_id=None, description=None, uploaded_by="insp",
    )  # fmt: skip


def test_only_photos_queued_for_the_whole_period_are_stuck(ctx: WorkflowContext, clock: FakeClock) -> None:
    queued, _ = record_upload(ctx, _photo(1), None)
    failed, _ = record_upload(ctx, _photo(2), None)
    record_failure(ctx, failed.photo_id, "worker died")
    assert queued.status is PhotoStatus.QUEUED
    clock.advance(timedelta(seconds=599))
    assert stuck_photos(ctx, quiet_for=STUCK) == []
    clock.advance(timedelta(seconds=1))
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK)] == [queued.photo_id]
