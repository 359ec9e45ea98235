"""Frame retention against a real local object store and SQLite: expired frames go, evidence stays, and
an object store failure puts the undeleted frames back into the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from serving.bus.local import LocalBus
from serving.objects.local import LocalObjectStore
from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.retention import FrameRetention, retention_sweep
from serving.pipelines.sweeps import sweep_once
from workflow.domain.clock import FakeClock
from workflow.domain.observations import Observation, SourceKind
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.services.context import WorkflowContext
from workflow.services.frames import expired_frames, record_frame
from workflow.services.hazards import ingest_observation

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.fixture
def ctx(tmp_path: Path) -> WorkflowContext:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    return WorkflowContext(make_session_factory(make_engine(url)), FakeClock(T0))


def _frames(ctx: WorkflowContext, store: LocalObjectStore, n: int, camera: str = "cam-1") -> list[str]:
    keys = []
    for i in range(n):
        key = store.put(f"{camera} frame {i}".encode(), content_type="image/jpeg").key
        record_frame(ctx, key, camera)
        keys.append(key)
    return keys


def test_expired_frames_are_deleted_and_evidence_frames_kept(ctx: WorkflowContext, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    old = _frames(ctx, store, 7)
    evidence = old[3]
    observation = Observation("o1", "ppe.no_helmet", 0.9, "z1", SourceKind.CAMERA, "cam-1", T0, (evidence,))
    ingest_observation(ctx, observation)
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=30))
    recent = _frames(ctx, store, 2, "cam-2")
    retention = FrameRetention(store, keep=timedelta(hours=24), batch=2)  # small batches: several rounds

    assert retention_sweep(ctx, retention) == 6
    assert [k for k in old if store.exists(k)] == [evidence]
    assert all(store.exists(k) for k in recent)
    assert retention_sweep(ctx, retention) == 0  # idempotent
    clock.advance(timedelta(hours=25))
    result = sweep_once(ctx, LocalBus(), retention)  # the periodic sweep runs it too
    assert result.frames_deleted == 2 and store.exists(evidence)


class FailingAfter(LocalObjectStore):
    """A local store whose deletes fail after ``ok`` successes (the S3 endpoint went away)."""

    def __init__(self, root: Path, ok: int) -> None:
        super().__init__(root)
        self.ok = ok

    def delete(self, key: str) -> None:
        if self.ok == 0:
            raise ObjectStoreUnavailableError("object store unreachable")
        self.ok -= 1
        super().delete(key)


def test_a_store_failure_puts_the_undeleted_frames_back(ctx: WorkflowContext, tmp_path: Path) -> None:
    store = FailingAfter(tmp_path / "objects", ok=2)
    keys = _frames(ctx, store, 5)
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=30))
    retention = FrameRetention(store, keep=timedelta(hours=24))
    assert retention_sweep(ctx, retention) == 2
    left = [k for k in keys if store.exists(k)]
    assert len(left) == 3
    assert sorted(expired_frames(ctx, clock.now() + timedelta(seconds=1))) == sorted(left)  # back, not leaked
    store.ok = 10
    clock.advance(timedelta(hours=25))
    assert retention_sweep(ctx, retention) == 3
    assert not any(store.exists(k) for k in keys)
