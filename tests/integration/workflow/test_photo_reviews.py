"""The review queue and the reviewed-photo export (the safety engineer's labelling loop), boundaries by hand.

Photos are 640x480 (``new_photo``); the expected orders and messages are written out, not derived.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.support.audit_log import audit_after, last_audit_seq
from tests.support.workflow_seeds import new_photo
from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput
from workflow.services.context import WorkflowContext
from workflow.services.photos import (
    PhotoAnalysis,
    ReviewedBox,
    list_reviews,
    record_result,
    record_upload,
    review_queue,
    save_review,
)

pytestmark = pytest.mark.integration
NOTHING = PhotoAnalysis(models=("ppe@2",), detections=(), findings=(), hazards=())


def _done(ctx: WorkflowContext, n: int) -> str:
    view, _ = record_upload(ctx, new_photo(n), None)
    record_result(ctx, view.photo_id, NOTHING, None)
    return view.photo_id


def _message(call: object) -> str:
    with pytest.raises(InvalidInput) as error:
        call()  # type: ignore[operator]
    return str(error.value)


def test_the_queue_holds_analysed_unreviewed_photos_newest_first(
    ctx: WorkflowContext, clock: FakeClock
) -> None:
    first = _done(ctx, 1)
    clock.advance(timedelta(seconds=1))
    # The same second: ordered by id, 2 before 3, though 3 came later (a scan of the status index
    # backwards, newest first, would hand back 3 first).
    third, second = _done(ctx, 2), _done(ctx, 3)
    record_upload(ctx, new_photo(4), None)  # still queued for analysis: not reviewable yet
    assert [p.photo_id for p in review_queue(ctx, limit=50)] == [third, second, first]
    save_review(ctx, third, [], None, "eng")
    assert [p.photo_id for p in review_queue(ctx, limit=50)] == [second, first]
    assert [p.photo_id for p in review_queue(ctx, limit=1)] == [second]


@pytest.mark.parametrize("limit", [0, 501])
def test_the_queue_limit_is_1_to_500(ctx: WorkflowContext, limit: int) -> None:
    assert _message(lambda: review_queue(ctx, limit=limit)) == "limit must be 1–500"


def test_the_queue_accepts_its_limits(ctx: WorkflowContext) -> None:
    _done(ctx, 1)
    assert len(review_queue(ctx, limit=500)) == 1 and len(review_queue(ctx, limit=1)) == 1


def test_reviews_are_exported_in_review_order_and_paged(ctx: WorkflowContext, clock: FakeClock) -> None:
    a, b, c = _done(ctx, 1), _done(ctx, 2), _done(ctx, 3)
    save_review(ctx, c, [ReviewedBox(" head ", (1, 2, 30, 40))], "bare head", "eng")
    clock.advance(timedelta(seconds=1))
    save_review(ctx, b, [], None, "eng")
    save_review(ctx, a, [], None, "eng2")  # same second as b: by id, a before b
    assert [r.photo_id for r in list_reviews(ctx, limit=1000)] == [c, a, b]
    assert [r.photo_id for r in list_reviews(ctx, limit=2)] == [c, a]
    assert [r.photo_id for r in list_reviews(ctx, limit=2, offset=2)] == [b]
    first = list_reviews(ctx, limit=1)[0]
    assert first.detections == (ReviewedBox("head", (1.0, 2.0, 30.0, 40.0)),)  # label trimmed
    assert (first.note, first.reviewed_by, first.width, first.height) == ("bare head", "eng", 640, 480)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (10_001, 0), (1, -1)])
def test_the_export_limits(ctx: WorkflowContext, limit: int, offset: int) -> None:
    message = _message(lambda: list_reviews(ctx, limit=limit, offset=offset))
    assert message == "limit must be 1–10000 and offset ≥ 0"


def test_the_export_accepts_its_limits(ctx: WorkflowContext) -> None:
    save_review(ctx, _done(ctx, 1), [], None, "eng")
    assert len(list_reviews(ctx, limit=10_000, offset=0)) == 1 and len(list_reviews(ctx, limit=1)) == 1


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (
            (0, 0, float("nan"), 10),
            "box [0, 0, nan, 10] must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1",
        ),
        (
            (0, 0, float("inf"), 10),
            "box [0, 0, inf, 10] must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1",
        ),
        ((5, 0, 5, 10), "box [5, 0, 5, 10] must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1"),
        ((0, 5, 10, 5), "box [0, 5, 10, 5] must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1"),
        ((-1, 0, 10, 10), "box [-1, 0, 10, 10] lies outside the 640×480 image"),
        ((0, -1, 10, 10), "box [0, -1, 10, 10] lies outside the 640×480 image"),
        ((0, 0, 641, 10), "box [0, 0, 641, 10] lies outside the 640×480 image"),
        ((0, 0, 10, 481), "box [0, 0, 10, 481] lies outside the 640×480 image"),
    ],
)
def test_a_box_off_the_image_or_inside_out_is_refused(
    ctx: WorkflowContext, box: tuple[float, float, float, float], message: str
) -> None:
    photo = _done(ctx, 1)
    assert _message(lambda: save_review(ctx, photo, [ReviewedBox("head", box)], None, "eng")) == message
    assert list_reviews(ctx, limit=1000) == []  # nothing stored


@pytest.mark.parametrize("label", ["", "   ", "x" * 65])
def test_a_label_must_be_1_to_64_characters(ctx: WorkflowContext, label: str) -> None:
    photo = _done(ctx, 1)
    message = _message(lambda: save_review(ctx, photo, [ReviewedBox(label, (0, 0, 1, 1))], None, "eng"))
    assert message == "each box needs a label of 1–64 characters"


def test_the_edges_of_the_image_and_a_64_character_label_are_accepted(ctx: WorkflowContext) -> None:
    photo = _done(ctx, 1)
    edge = ReviewedBox("x" * 64, (0, 0, 640, 480))
    saved = save_review(ctx, photo, [edge, dataclasses.replace(edge, label="a")], None, "eng")
    assert saved.detections == (
        ReviewedBox("x" * 64, (0.0, 0.0, 640.0, 480.0)),
        ReviewedBox("a", (0.0, 0.0, 640.0, 480.0)),
    )


def test_a_second_review_replaces_the_first_and_each_is_audited(
    ctx: WorkflowContext, clock: FakeClock
) -> None:
    photo = _done(ctx, 1)
    seq, first_at = last_audit_seq(ctx), clock.now()
    save_review(ctx, photo, [ReviewedBox("head", (1, 2, 3, 4))], "first look", "eng")
    second_at = clock.advance(timedelta(minutes=5))
    boxes = [ReviewedBox("helmet", (5, 6, 7, 8)), ReviewedBox("vest", (0, 0, 9, 9))]
    save_review(ctx, photo, boxes, "corrected", "eng2")
    [stored] = list_reviews(ctx, limit=1000)  # one review per photo: the second replaced the first
    assert (stored.photo_id, stored.note, stored.reviewed_by, stored.reviewed_at) == (
        photo,
        "corrected",
        "eng2",
        second_at,
    )
    assert stored.detections == (
        ReviewedBox("helmet", (5.0, 6.0, 7.0, 8.0)),
        ReviewedBox("vest", (0.0, 0.0, 9.0, 9.0)),
    )
    assert audit_after(ctx, seq) == [
        (first_at, "eng", "photo.reviewed", "photo", photo, '{"boxes":1}'),
        (second_at, "eng2", "photo.reviewed", "photo", photo, '{"boxes":2}'),
    ]


def test_a_review_holds_at_most_500_boxes(ctx: WorkflowContext) -> None:
    photo = _done(ctx, 1)
    box = ReviewedBox("head", (0, 0, 1, 1))
    too_many = _message(lambda: save_review(ctx, photo, [box] * 501, None, "eng"))
    assert too_many == "at most 500 boxes per photo"
    assert len(save_review(ctx, photo, [box] * 500, None, "eng").detections) == 500
