"""Tamper-evident audit log: each entry carries the hash of the previous one.

Editing a row breaks its own hash; deleting a row breaks the sequence and the next row's link;
deleting the tail is caught by the separately stored head (last seq + hash).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    payload: str  # canonical JSON text
    prev_hash: str
    hash: str


def canonical_payload(data: dict[str, str | int | float | bool | None]) -> str:
    # Not mutated: json reads ensure_ascii=None as False, so that mutant is equivalent.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # pragma: no mutate


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, entity: str, entity_id: str, payload: str, prev_hash: str
) -> str:
    # Microsecond ISO time, identical on SQLite and PostgreSQL round trips.
    material = "\x1f".join(
        [str(seq), at.strftime("%Y-%m-%dT%H:%M:%S.%f"), actor, action, entity, entity_id, payload, prev_hash]
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditVerification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(entries: list[AuditEntry], head_seq: int, head_hash: str) -> AuditVerification:
    """Entries in seq order; head_seq/head_hash as recorded by the last append."""
    prev = GENESIS_HASH
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            return AuditVerification(
                False, expected_seq - 1, expected_seq, f"entry {expected_seq} is missing"
            )
        if e.prev_hash != prev:
            return AuditVerification(
                False, expected_seq - 1, e.seq, f"entry {e.seq} does not link to its predecessor"
            )
        recomputed = entry_hash(e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.payload, e.prev_hash)
        if recomputed != e.hash:
            return AuditVerification(False, expected_seq - 1, e.seq, f"entry {e.seq} was modified")
        prev = e.hash
        expected_seq += 1
    last = expected_seq - 1
    if last != head_seq:
        # Entries up to the shorter of the two are vouched for; the first one beyond is the bad one.
        good = min(last, head_seq)
        return AuditVerification(False, good, good + 1, f"log ends at {last} but the head says {head_seq}")
    if prev != (head_hash if head_seq else GENESIS_HASH):
        # Same length, every link intact: the last entry was rewritten consistently.
        return AuditVerification(False, last - 1, last, f"entry {last} is not the recorded head")
    return AuditVerification(True, last)
