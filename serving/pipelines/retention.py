"""Camera frame retention: snapshots and annotated frames that no evidence refers to are deleted from the
object store once older than ``monitor.frame_retention_h`` (50 cameras at one frame per 5 s store about
1.7 million images a day; without this the disk fills). Evidence, crops and photos are never touched:
only keys in the frame ledger (``workflow.services.frames``) are candidates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from serving.objects.port import ObjectStore, ObjectStoreError
from workflow.services.context import WorkflowContext
from workflow.services.frames import expired_frames, forget_frames, record_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FrameRetention:
    objects: ObjectStore
    keep: timedelta
    batch: int = 500
    max_batches: int = 20  # per sweep: a backlog drains over several sweeps, the others still run


def retention_sweep(ctx: WorkflowContext, retention: FrameRetention) -> int:
    """Delete expired, unreferenced frames; returns how many. Idempotent (two nodes may sweep at once)."""
    before = ctx.clock.now() - retention.keep
    deleted = 0
    for _ in range(retention.max_batches):
        keys = expired_frames(ctx, before, retention.batch)
        frames = forget_frames(ctx, keys, before)
        for index, frame in enumerate(frames):
            try:
                retention.objects.delete(frame.key)
            except ObjectStoreError as exc:
                # Back into the ledger (due again one period later) rather than leaked as orphans.
                for left in frames[index:]:
                    record_frame(ctx, left.key, left.camera_id)
                log.warning("frame retention stopped: %s; %d frames put back", exc, len(frames) - index)
                return deleted
            deleted += 1
        if len(keys) < retention.batch:
            break
    return deleted
