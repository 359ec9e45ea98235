"""Repeat hazards: the same kind at the same equipment/area again and again is a root-cause candidate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RepeatPolicy:
    unresolved_threshold: int = 3
    window_threshold: int = 5
    window: timedelta = timedelta(days=90)


def is_repeat(unresolved: int, in_window: int, policy: RepeatPolicy) -> bool:
    """Counts include the hazard being judged."""
    return unresolved >= policy.unresolved_threshold or in_window >= policy.window_threshold


@dataclass(frozen=True, slots=True)
class RepeatReportRow:
    """One kind at one equipment/area that met the repeat rule: a root-cause candidate."""

    kind: str
    area: str
    equipment_id: str | None
    unresolved: int
    in_window: int
    hazard_ids: tuple[int, ...]
