"""Group commit: concurrent intake requests share transactions, decide as sequential intake, and one bad
request fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import ClockSkew
from workflow.domain.observations import IngestResult, IngestStatus, Observation, SourceKind
from workflow.persistence.orm import ObservationRow
from workflow.services.context import WorkflowContext
from workflow.services.group_intake import GroupIntake, IntakeClosedError

T0 = datetime.fromisoformat("2026-03-02T08:00:00+00:00")


class GatedClock(FakeClock):
    """Blocks the first ``now()`` (the first transaction) until the test opens the gate."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def now(self) -> datetime:
        if not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(10)
        return super().now()


def _frame(
    camera: str, n: int, at: datetime, kinds: tuple[str, ...] = ("ppe.no_helmet",)
) -> list[Observation]:
    return [
        Observation(
            f"{camera}-{n}-{kind}", kind, 0.9, f"zone-{camera}", SourceKind.CAMERA, camera, at, (f"k/{n}",)
        )
        for kind in kinds
    ]


def _wait_until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def _in_thread(
    intake: GroupIntake, batch: list[Observation], out: dict[str, object], name: str
) -> threading.Thread:
    def run() -> None:
        try:
            out[name] = intake.ingest(batch)
        except Exception as exc:  # the test inspects it
            out[name] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _queue_in_order(
    intake: GroupIntake, frames: dict[str, list[Observation]], out: dict[str, object]
) -> list[threading.Thread]:
    """One caller thread per frame, each started once the previous one is queued (deterministic order)."""
    threads: list[threading.Thread] = []
    for name, frame in frames.items():
        threads.append(_in_thread(intake, frame, out, name))
        expected = len(threads)
        _wait_until(lambda: intake.queued == expected)  # noqa: B023 - waited on before the next loop
    return threads


def _stored(ctx: WorkflowContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(ObservationRow)) or 0)


@pytest.fixture
def gated(sqlite_ctx: WorkflowContext) -> tuple[WorkflowContext, GatedClock]:
    clock = GatedClock(T0 + timedelta(hours=1))
    return WorkflowContext(sqlite_ctx.session_factory, clock, sqlite_ctx.config), clock


def test_requests_queued_during_a_transaction_share_the_next_one(
    gated: tuple[WorkflowContext, GatedClock],
) -> None:
    ctx, clock = gated
    intake = GroupIntake(ctx)
    out: dict[str, object] = {}
    first = _in_thread(intake, _frame("cam-a", 0, T0), out, "first")
    assert clock.entered.wait(10)  # the first request is inside its transaction
    # Five more frames arrive meanwhile: two from cam-a (same hazard), three from other cameras.
    frames = {
        "a1": _frame("cam-a", 1, T0 + timedelta(seconds=1)),
        "a2": _frame("cam-a", 2, T0 + timedelta(seconds=2), ("ppe.no_helmet", "leak.leak")),
        "b0": _frame("cam-b", 0, T0),
        "c0": _frame("cam-c", 0, T0),
        "dup": _frame("cam-a", 0, T0),  # a retried task: the same observation ids as "first"
    }
    threads = _queue_in_order(intake, frames, out)
    clock.gate.set()
    for thread in [first, *threads]:
        thread.join(10)
    intake.close()

    assert intake.transactions == 2  # the first alone, then the five queued ones together
    results = dict(out)
    assert all(isinstance(v, list) for v in results.values()), results
    first_result = results["first"]
    assert isinstance(first_result, list) and [r.status for r in first_result] == [IngestStatus.CREATED]
    hazard = first_result[0].hazard_id
    assert results["a1"] == [IngestResult(IngestStatus.APPENDED, hazard, False)]
    a2 = results["a2"]
    assert isinstance(a2, list) and [r.status for r in a2] == [IngestStatus.APPENDED, IngestStatus.CREATED]
    assert a2[0].hazard_id == hazard and a2[1].hazard_id != hazard
    for name in ("b0", "c0"):
        value = results[name]
        assert isinstance(value, list) and value[0].status is IngestStatus.CREATED
    assert results["dup"] == [IngestResult(IngestStatus.DUPLICATE, hazard, False)]
    assert _stored(ctx) == 6  # every distinct observation once: 1 + 1 + 2 + 1 + 1


def test_a_bad_request_fails_alone_and_the_others_are_stored(
    gated: tuple[WorkflowContext, GatedClock],
) -> None:
    ctx, clock = gated
    intake = GroupIntake(ctx)
    out: dict[str, object] = {}
    first = _in_thread(intake, _frame("cam-a", 0, T0), out, "first")
    assert clock.entered.wait(10)
    future = T0 + timedelta(days=2)  # far past the allowed clock skew: refused
    frames = {
        "good1": _frame("cam-b", 0, T0),
        "skewed": _frame("cam-c", 0, future),
        "good2": _frame("cam-d", 0, T0),
    }
    threads = _queue_in_order(intake, frames, out)
    clock.gate.set()
    for thread in [first, *threads]:
        thread.join(10)
    intake.close()

    assert isinstance(out["skewed"], ClockSkew)
    for name in ("first", "good1", "good2"):
        value = out[name]
        assert isinstance(value, list) and value[0].status is IngestStatus.CREATED, (name, value)
    assert _stored(ctx) == 3


def test_a_lone_request_goes_straight_through_and_close_refuses_new_work(sqlite_ctx: WorkflowContext) -> None:
    intake = GroupIntake(sqlite_ctx, max_batch=2)
    results = intake.ingest(_frame("cam-a", 0, T0 - timedelta(minutes=1)))
    assert [r.status for r in results] == [IngestStatus.CREATED]
    assert intake.ingest([]) == []
    assert intake.transactions == 1
    intake.close()
    with pytest.raises(IntakeClosedError):
        intake.ingest(_frame("cam-a", 1, T0 - timedelta(minutes=1)))
    with pytest.raises(ValueError, match="max_batch"):
        GroupIntake(sqlite_ctx, max_batch=0)


def test_many_concurrent_cameras_lose_nothing(sqlite_ctx: WorkflowContext) -> None:
    intake = GroupIntake(sqlite_ctx, max_batch=20)
    out: dict[str, object] = {}
    threads = []
    for camera in range(8):

        def run(camera: int = camera) -> None:
            got = []
            for n in range(10):
                got.append(
                    intake.ingest(
                        _frame(
                            f"cam-{camera}",
                            n,
                            T0 - timedelta(minutes=30 - n),
                            ("ppe.no_helmet", "ppe.no_vest", "leak.leak"),
                        )
                    )
                )
            out[str(camera)] = got

        threads.append(threading.Thread(target=run))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    intake.close()
    assert len(out) == 8
    for frames in out.values():
        assert isinstance(frames, list) and all(len(r) == 3 for r in frames)
        hazards = {r.hazard_id for frame in frames for r in frame}
        assert len(hazards) == 3  # each camera: one hazard per kind, the other frames appended evidence
    assert _stored(sqlite_ctx) == 240
    assert intake.transactions <= 80
