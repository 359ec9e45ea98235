from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from workflow.domain.audit import GENESIS_HASH, AuditEntry, entry_hash, verify_chain

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
