"""Recording an upload and finding a prior one, on SQLite and PostgreSQL, every expected value written out by
hand: the Idempotency-Key's length at both edges, the audit entry, the row as queued, a replay, and the
lookup by the uploader's own key or else by the bytes' digest."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest

from tests.support.audit_log import audit_after, last_audit_seq
from tests.support.lost_insert import wins_after_lookup
from tests.support.workflow_seeds import new_photo
from workflow.domain.errors import InvalidInput, NotFound
from workflow.persistence.photo_rows import PhotoRow
from workflow.services import photos as ph
from workflow.services.context import WorkflowContext

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock fixture's start
KEY_LENGTH = "^" + re.escape("Idempotency-Key must be 1–128 characters") + "$"


def _described(n: int) -> ph.NewPhoto:
    return dataclasses.replace(
        new_photo(n), area="tank farm", description="oil under P-7", equipment_id="P-7"
    )


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_an_idempotency_key_outside_1_to_128_characters_is_refused(ctx: WorkflowContext, key: str) -> None:
    with pytest.raises(InvalidInput, match=KEY_LENGTH):
        ph.record_upload(ctx, new_photo(1), key)
    with pytest.raises(NotFound):
        ph.get_photo(ctx, new_photo(1).photo_id)  # nothing recorded


@pytest.mark.parametrize("key", ["k", "k" * 128])
def test_an_idempotency_key_of_1_or_128_characters_is_taken(ctx: WorkflowContext, key: str) -> None:
    view, created = ph.record_upload(ctx, new_photo(1), key)
    assert created and view.photo_id == new_photo(1).photo_id
    prior = ph.find_upload(ctx, "f" * 64, key, "insp")  # other bytes, the same key: the key decides
    assert prior is not None and (prior.photo.photo_id, prior.upload_sha256) == (
        view.photo_id,
        view.upload_sha256,
    )


def test_an_upload_is_recorded_queued_with_what_was_sent_and_audited_once(ctx: WorkflowContext) -> None:
    new = _described(7)
    head = last_audit_seq(ctx)
    view, created = ph.record_upload(ctx, new, None)
    assert created
    assert (view.status, view.attempts, view.annotated_key, view.analysis, view.error) == (
        ph.PhotoStatus.QUEUED, 0, None, None, None
    )  # fmt: skip
    assert (view.area, view.description, view.equipment_id, view.zone) == (
        "tank farm",
        "oil under P-7",
        "P-7",
        "z1",
    )
    assert (view.received_at, view.media_type, view.width, view.height) == (T0, "image/jpeg", 640, 480)
    audited = [(T0, "insp", "photo.uploaded", "photo", new.photo_id,
                f'{{"original_key":"{new.original_key}","zone":"z1"}}')]  # fmt: skip
    assert audit_after(ctx, head) == audited
    again, created_again = ph.record_upload(ctx, new, None)  # the same photo id: a replay
    assert (created_again, again.photo_id) == (False, new.photo_id)
    assert audit_after(ctx, head) == audited  # not audited twice
    assert ph.get_photo(ctx, new.photo_id).description == "oil under P-7"


def test_a_prior_upload_is_found_by_the_uploaders_own_key_or_else_by_its_bytes(ctx: WorkflowContext) -> None:
    first = new_photo(1)
    ph.record_upload(ctx, first, "key-1")
    by_bytes = ph.find_upload(ctx, first.upload_sha256, None, "insp")
    assert by_bytes is not None and by_bytes.photo.photo_id == first.photo_id
    assert ph.find_upload(ctx, "e" * 64, None, "insp") is None  # bytes never sent
    assert ph.find_upload(ctx, "e" * 64, "key-1", "insp2") is None  # another inspector's key is not theirs
    assert ph.find_upload(ctx, "e" * 64, "key-9", "insp") is None  # an unknown key, unknown bytes
    ph.record_upload(ctx, new_photo(2), None)  # no key: none is stored for it (not even the text "None")
    assert ph.find_upload(ctx, "e" * 64, "None", "insp") is None
    fallback = ph.find_upload(ctx, first.upload_sha256, "key-9", "insp")  # an unknown key: the bytes decide
    assert fallback is not None and fallback.photo.photo_id == first.photo_id


def test_a_missing_photo_is_named_in_80_characters_at_most(ctx: WorkflowContext) -> None:
    long_id = "a" * 100
    with pytest.raises(NotFound, match="^" + re.escape(f"photo {'a' * 80!r} not found") + "$"):
        ph.get_photo(ctx, long_id)


def test_an_upload_losing_the_insert_to_the_same_photo_is_that_photos_replay(ctx: WorkflowContext) -> None:
    new = _described(3)
    head = last_audit_seq(ctx)
    won: list[tuple[ph.PhotoView, bool]] = []
    with wins_after_lookup(
        ctx.session_factory, PhotoRow, lambda: won.append(ph.record_upload(ctx, new, None))
    ):
        view, created = ph.record_upload(ctx, new, None)
    assert [c for _, c in won] == [True]  # the competitor recorded it first
    assert (created, view.photo_id, view.status, view.description) == (
        False, new.photo_id, ph.PhotoStatus.QUEUED, "oil under P-7"
    )  # fmt: skip
    assert audit_after(ctx, head) == [
        (T0, "insp", "photo.uploaded", "photo", new.photo_id,
         f'{{"original_key":"{new.original_key}","zone":"z1"}}'),
    ]  # fmt: skip  # the winner's entry only


def test_a_replay_with_the_same_key_is_a_replay_not_a_clash_on_the_stored_key(ctx: WorkflowContext) -> None:
    new = new_photo(6)
    ph.record_upload(ctx, new, "retry-1")
    again, created = ph.record_upload(ctx, new, "retry-1")  # the phone sent it twice
    assert (created, again.photo_id) == (False, new.photo_id)
    prior = ph.find_upload(ctx, "e" * 64, "retry-1", "insp")
    assert prior is not None and prior.photo.photo_id == new.photo_id
