"""The frame ledger behind retention: expired = older than the cut-off and referred to by no evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput
from workflow.domain.observations import Observation, SourceKind
from workflow.services.context import WorkflowContext
from workflow.services.frames import Frame, expired_frames, forget_frames, record_frame
from workflow.services.hazards import ingest_observation

SNAP = "a" * 64
ANNOTATED = "b" * 64
EVIDENCE = "c" * 64
FRESH = "d" * 64


def test_only_old_frames_that_no_evidence_refers_to_expire(
    sqlite_ctx: WorkflowContext, clock: FakeClock
) -> None:
    for key in (SNAP, ANNOTATED, EVIDENCE):
        record_frame(sqlite_ctx, key, "cam-1")
    at = clock.now()
    obs = Observation("o1", "ppe.no_helmet", 0.9, "z1", SourceKind.CAMERA, "cam-1", at, (EVIDENCE, "e" * 64))
    ingest_observation(sqlite_ctx, obs)
    clock.advance(timedelta(hours=2))
    record_frame(sqlite_ctx, FRESH, "cam-2")
    cutoff = clock.now() - timedelta(hours=1)

    assert expired_frames(sqlite_ctx, cutoff) == [SNAP, ANNOTATED]
    assert expired_frames(sqlite_ctx, cutoff, limit=1) == [SNAP]
    assert forget_frames(sqlite_ctx, [SNAP, EVIDENCE, FRESH], cutoff) == [Frame(SNAP, "cam-1")]
    assert expired_frames(sqlite_ctx, cutoff) == [ANNOTATED]
    assert forget_frames(sqlite_ctx, [], cutoff) == []
    with pytest.raises(InvalidInput):
        expired_frames(sqlite_ctx, cutoff, limit=0)


def test_a_frame_stored_again_is_not_forgotten_from_a_stale_selection(
    sqlite_ctx: WorkflowContext, clock: FakeClock
) -> None:
    record_frame(sqlite_ctx, SNAP, "cam-1")
    clock.advance(timedelta(hours=2))
    cutoff = clock.now() - timedelta(hours=1)
    selected = expired_frames(sqlite_ctx, cutoff)
    record_frame(sqlite_ctx, SNAP, "cam-1")  # a frozen camera stores the same bytes again meanwhile
    assert selected == [SNAP]
    assert forget_frames(sqlite_ctx, selected, cutoff) == []
    assert expired_frames(sqlite_ctx, clock.now() + timedelta(seconds=1)) == [SNAP]
