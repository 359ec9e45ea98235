"""A photo queued with no news for ``stuck_after`` lost its task: the sweep's query finds it, at the
boundary and not before; done and failed photos are never "stuck"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.workflow_seeds import new_photo
from workflow.domain.clock import FakeClock
from workflow.services.context import WorkflowContext
from workflow.services.photos import PhotoStatus, record_failure, record_upload, stuck_photos

pytestmark = pytest.mark.integration
STUCK = timedelta(seconds=600)


def test_only_photos_queued_for_the_whole_period_are_stuck(ctx: WorkflowContext, clock: FakeClock) -> None:
    queued, _ = record_upload(ctx, new_photo(1), None)
    failed, _ = record_upload(ctx, new_photo(2), None)
    record_failure(ctx, failed.photo_id, "worker died")
    assert queued.status is PhotoStatus.QUEUED
    clock.advance(timedelta(seconds=599))
    assert stuck_photos(ctx, quiet_for=STUCK) == []
    clock.advance(timedelta(seconds=1))
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK)] == [queued.photo_id]
