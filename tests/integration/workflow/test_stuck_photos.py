"""A photo queued with no news for ``stuck_after`` lost its task: the sweep's query finds it, at the
boundary and not before; done and failed photos are never "stuck"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.workflow_seeds import new_photo
from workflow.domain.clock import FakeClock
from workflow.persistence.photo_rows import PhotoRow
from workflow.services.context import WorkflowContext
from workflow.services.photos import (
    PhotoAnalysis,
    PhotoStatus,
    begin_attempt,
    failed_photos,
    get_photo,
    record_failure,
    record_result,
    record_upload,
    requeue,
    stuck_photos,
)

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


def _failed(ctx: WorkflowContext, n: int, attempts: int) -> str:
    view, _ = record_upload(ctx, new_photo(n), None)
    for _ in range(attempts):
        begin_attempt(ctx, view.photo_id)
        record_failure(ctx, view.photo_id, "object store down")
    return view.photo_id


def test_failed_photos_are_retried_while_attempts_remain_once_quiet_oldest_first(
    ctx: WorkflowContext, clock: FakeClock
) -> None:
    once = _failed(ctx, 1, attempts=1)
    clock.advance(timedelta(seconds=1))
    twice = _failed(ctx, 2, attempts=2)
    _failed(ctx, 3, attempts=3)  # used up: 3 attempts of 3
    record_upload(ctx, new_photo(4), None)  # queued, not failed
    clock.advance(timedelta(seconds=60))  # `twice` failed exactly 60 s ago, `once` 61 s ago
    quiet = timedelta(seconds=60)
    assert [p.photo_id for p in failed_photos(ctx, max_attempts=3, quiet_for=quiet)] == [once, twice]
    assert [p.photo_id for p in failed_photos(ctx, max_attempts=3, quiet_for=quiet, limit=1)] == [once]
    assert [p.photo_id for p in failed_photos(ctx, max_attempts=2, quiet_for=quiet)] == [once]
    assert failed_photos(ctx, max_attempts=3, quiet_for=timedelta(seconds=62)) == []  # not quiet long enough


def test_stuck_photos_are_oldest_first_and_limited(ctx: WorkflowContext, clock: FakeClock) -> None:
    first, _ = record_upload(ctx, new_photo(1), None)
    clock.advance(timedelta(seconds=1))
    second, _ = record_upload(ctx, new_photo(2), None)
    clock.advance(STUCK)
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK)] == [first.photo_id, second.photo_id]
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK, limit=1)] == [first.photo_id]
    assert all(p.status is PhotoStatus.QUEUED for p in stuck_photos(ctx, quiet_for=STUCK))


def test_the_people_count_of_an_analysis_is_kept(ctx: WorkflowContext) -> None:
    view, _ = record_upload(ctx, new_photo(1), None)
    analysis = PhotoAnalysis(models=("ppe@2",), detections=(), findings=(), hazards=(), people=3)
    assert record_result(ctx, view.photo_id, analysis, "annotated/1.jpg").analysis == analysis
    assert get_photo(ctx, view.photo_id).analysis == analysis


def test_an_analysis_stored_before_people_were_counted_reads_as_none_counted(ctx: WorkflowContext) -> None:
    view, _ = record_upload(ctx, new_photo(1), None)
    with ctx.uow() as uow:  # a row written by a version without the people count
        row = uow.session.get(PhotoRow, view.photo_id)
        assert row is not None
        row.status, row.result = (
            "done",
            '{"models": ["ppe@1"], "detections": [], "findings": [], "hazards": []}',
        )
        uow.commit()
    analysis = get_photo(ctx, view.photo_id).analysis
    assert analysis is not None and (analysis.models, analysis.people) == (("ppe@1",), 0)


def _received(ctx: WorkflowContext, photo_id: str, ago: timedelta) -> None:
    with ctx.uow() as uow:
        row = uow.session.get(PhotoRow, photo_id)
        assert row is not None
        row.received_at -= ago
        uow.commit()


def _updated_at(ctx: WorkflowContext, photo_id: str) -> object:
    with ctx.uow() as uow:
        row = uow.session.get(PhotoRow, photo_id)
        assert row is not None
        return row.updated_at


def test_oldest_first_means_received_first_not_stored_first(ctx: WorkflowContext, clock: FakeClock) -> None:
    queued = [record_upload(ctx, new_photo(n), None)[0].photo_id for n in (1, 2, 3)]
    failed = [_failed(ctx, n, attempts=1) for n in (4, 5, 6)]
    for ids in (queued, failed):  # the last stored was received an hour before, the first half an hour
        _received(ctx, ids[2], timedelta(hours=1))
        _received(ctx, ids[0], timedelta(minutes=30))
    clock.advance(STUCK)
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK)] == [queued[2], queued[0], queued[1]]
    quiet = timedelta(seconds=60)
    assert [p.photo_id for p in failed_photos(ctx, max_attempts=3, quiet_for=quiet)] == [
        failed[2],
        failed[0],
        failed[1],
    ]


def test_stuck_and_failed_photos_come_20_at_a_time_by_default(ctx: WorkflowContext, clock: FakeClock) -> None:
    for n in range(1, 22):
        record_upload(ctx, new_photo(n), None)
        _failed(ctx, 100 + n, attempts=1)
    clock.advance(STUCK)
    assert len(stuck_photos(ctx, quiet_for=STUCK)) == 20
    assert len(failed_photos(ctx, max_attempts=3, quiet_for=STUCK)) == 20


def test_requeue_moves_only_a_failed_photo_back_to_queued(ctx: WorkflowContext, clock: FakeClock) -> None:
    failed = _failed(ctx, 1, attempts=1)
    done, _ = record_upload(ctx, new_photo(2), None)
    record_result(
        ctx, done.photo_id, PhotoAnalysis(models=("ppe@2",), detections=(), findings=(), hazards=()), None
    )
    queued, _ = record_upload(ctx, new_photo(3), None)
    before = clock.now()
    later = clock.advance(timedelta(seconds=5))
    assert requeue(ctx, failed).status is PhotoStatus.QUEUED
    assert _updated_at(ctx, failed) == later
    assert requeue(ctx, done.photo_id).status is PhotoStatus.DONE  # a finished result is never redone
    assert requeue(ctx, queued.photo_id).status is PhotoStatus.QUEUED
    assert _updated_at(ctx, queued.photo_id) == before  # untouched


def test_a_recorded_failure_returns_the_failed_photo_with_its_error(ctx: WorkflowContext) -> None:
    view, _ = record_upload(ctx, new_photo(1), None)
    failed = record_failure(ctx, view.photo_id, "object store down")
    assert (failed.photo_id, failed.status, failed.error) == (
        view.photo_id,
        PhotoStatus.FAILED,
        "object store down",
    )


def _received_in_reverse(ctx: WorkflowContext, ids: list[str]) -> None:
    """Date each photo's reception back so the last inserted is the oldest: insertion (and key) order is
    then the reverse of the order the sweep must take them in."""
    with ctx.uow() as uow:
        for n, photo_id in enumerate(ids):
            row = uow.session.get(PhotoRow, photo_id)
            assert row is not None
            row.received_at = row.received_at - timedelta(minutes=n + 1)
        uow.commit()


def test_a_sweep_takes_the_20_oldest_stuck_photos_by_reception(
    ctx: WorkflowContext, clock: FakeClock
) -> None:
    ids = [record_upload(ctx, new_photo(n), None)[0].photo_id for n in range(1, 22)]
    _received_in_reverse(ctx, ids)
    clock.advance(STUCK)
    oldest_20 = [new_photo(n).photo_id for n in range(21, 1, -1)]  # 21 (oldest) … 2; 1 is the newest
    assert [p.photo_id for p in stuck_photos(ctx, quiet_for=STUCK)] == oldest_20


def test_a_sweep_retries_the_20_oldest_failed_photos_by_reception(
    ctx: WorkflowContext, clock: FakeClock
) -> None:
    ids = [_failed(ctx, n, attempts=1) for n in range(1, 22)]
    _received_in_reverse(ctx, ids)
    clock.advance(timedelta(seconds=60))
    oldest_20 = [new_photo(n).photo_id for n in range(21, 1, -1)]
    assert [
        p.photo_id for p in failed_photos(ctx, max_attempts=3, quiet_for=timedelta(seconds=60))
    ] == oldest_20
