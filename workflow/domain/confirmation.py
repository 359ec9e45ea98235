"""Temporal confirmation of camera findings: a finding counts only when it persists.

A detector flickers: one frame in a hundred boxes a crate as a bare head. A worker who stays bare-headed
is seen frame after frame. So a camera finding (a ``kind|zone`` key) opens or feeds a hazard only when it
was seen in at least ``k`` of the camera's last ``n`` snapshots, the current one included. Uploads are a
person's deliberate report and are not subject to this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from workflow.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ConfirmationRule:
    k: int = 2
    n: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise InvalidInput(f"confirmation needs 1 <= k <= n, got k={self.k}, n={self.n}")


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one snapshot of a camera showed: the finding keys seen in it (possibly none)."""

    at: datetime
    keys: frozenset[str]


def sighting_key(kind: str, zone: str) -> str:
    return f"{kind}|{zone}"


def window_ending_at(history: Iterable[Sighting], current: Sighting, n: int) -> tuple[Sighting, ...]:
    """The ``n`` snapshots up to and including ``current``, oldest first. A stored snapshot with the
    current one's time is the same frame seen again (a retried task) and is replaced, not counted twice."""
    earlier = sorted((s for s in history if s.at < current.at), key=lambda s: s.at)
    return (*earlier[-(n - 1) :], current) if n > 1 else (current,)


def confirmed(window: Sequence[Sighting], current: Sighting, rule: ConfirmationRule) -> frozenset[str]:
    """The keys of ``current`` seen in at least ``k`` snapshots of ``window``."""
    return frozenset(key for key in current.keys if sum(key in s.keys for s in window) >= rule.k)
