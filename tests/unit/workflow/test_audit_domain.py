from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

from workflow.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditVerification,
    canonical_payload,
    entry_hash,
    verify_chain,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


def chain(n: int) -> list[AuditEntry]:
    prev, out = GENESIS_HASH, []
    for i in range(1, n + 1):
        at = T + timedelta(seconds=i)
        h = entry_hash(i, at, "u", "a", "hazard", str(i), "{}", prev)
        out.append(AuditEntry(i, at, "u", "a", "hazard", str(i), "{}", prev, h))
        prev = h
    return out


def test_intact_chain_verifies() -> None:
    entries = chain(5)
    assert verify_chain(entries, 5, entries[-1].hash).ok
    assert verify_chain([], 0, GENESIS_HASH).ok


def test_edit_is_detected() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], payload='{"x":1}')
    result = verify_chain(entries, 5, entries[-1].hash)
    assert not result.ok and result.first_bad_seq == 3 and "modified" in result.reason


def test_middle_and_tail_deletion_is_detected() -> None:
    entries = chain(5)
    middle = verify_chain(entries[:2] + entries[3:], 5, entries[-1].hash)
    assert not middle.ok and middle.first_bad_seq == 3
    tail = verify_chain(entries[:4], 5, entries[-1].hash)
    assert not tail.ok and tail.first_bad_seq == 5


def relinked(entries: list[AuditEntry], index: int, **changes: str) -> AuditEntry:
    """Entry ``index`` changed and re-hashed consistently: what a forger who knows the scheme writes."""
    e = dataclasses.replace(entries[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(
        e, hash=entry_hash(e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.payload, e.prev_hash)
    )


def test_entry_hash_is_sha256_of_the_documented_fields_joined_by_unit_separators() -> None:
    material = "7\x1f2026-01-01T00:00:07.000250\x1fann\x1fclose\x1fhazard\x1f42\x1f{}\x1f" + "0" * 64
    expected = hashlib.sha256(material.encode()).hexdigest()
    at = T + timedelta(seconds=7, microseconds=250)
    assert entry_hash(7, at, "ann", "close", "hazard", "42", "{}", GENESIS_HASH) == expected


def test_canonical_payload_sorts_keys_drops_spaces_and_keeps_unicode() -> None:
    assert canonical_payload({"zone": "罐区", "a": 1, "ok": True, "n": None}) == (
        '{"a":1,"n":null,"ok":true,"zone":"罐区"}'
    )


def test_verification_of_an_intact_chain_counts_every_entry() -> None:
    entries = chain(4)
    assert verify_chain(entries, 4, entries[-1].hash) == AuditVerification(True, 4, None, "")


def test_an_entry_rewritten_with_a_fresh_hash_but_a_forged_link_is_caught_by_its_link() -> None:
    entries = chain(5)
    entries[2] = relinked(entries, 2, prev_hash="f" * 64)
    assert verify_chain(entries, 5, entries[-1].hash) == AuditVerification(
        False, 2, 3, "entry 3 does not link to its predecessor"
    )


def test_edit_reports_what_was_checked_before_it() -> None:
    entries = chain(5)
    entries[3] = dataclasses.replace(entries[3], actor="mallory")
    assert verify_chain(entries, 5, entries[-1].hash) == AuditVerification(
        False, 3, 4, "entry 4 was modified"
    )


def test_a_missing_first_entry_is_named() -> None:
    entries = chain(3)
    assert verify_chain(entries[1:], 3, entries[-1].hash) == AuditVerification(
        False, 0, 1, "entry 1 is missing"
    )


def test_a_missing_middle_entry_is_named() -> None:
    entries = chain(5)
    assert verify_chain(entries[:2] + entries[3:], 5, entries[-1].hash) == AuditVerification(
        False, 2, 3, "entry 3 is missing"
    )


def test_deleting_the_tail_is_caught_by_the_head() -> None:
    entries = chain(5)
    assert verify_chain(entries[:4], 5, entries[-1].hash) == AuditVerification(
        False, 4, 5, "log ends at 4 but the head says 5"
    )


def test_rewriting_the_last_entry_consistently_is_caught_by_the_head_hash() -> None:
    """Same length, every link intact: only the head's recorded hash can tell."""
    entries = chain(5)
    head_hash = entries[-1].hash
    entries[4] = relinked(entries, 4, payload='{"verdict":"resolved"}')
    assert verify_chain(entries, 5, head_hash) == AuditVerification(
        False, 4, 5, "entry 5 is not the recorded head"
    )


def test_entries_appended_behind_the_head_are_caught() -> None:
    entries = chain(5)
    assert verify_chain(entries, 4, entries[3].hash) == AuditVerification(
        False, 4, 5, "log ends at 5 but the head says 4"
    )


def test_a_log_with_entries_but_an_empty_head_is_caught() -> None:
    entries = chain(2)
    assert verify_chain(entries, 0, GENESIS_HASH) == AuditVerification(
        False, 0, 1, "log ends at 2 but the head says 0"
    )


def test_an_empty_log_with_no_head_is_intact_whatever_the_head_hash_field_holds() -> None:
    assert verify_chain([], 0, "") == AuditVerification(True, 0, None, "")
