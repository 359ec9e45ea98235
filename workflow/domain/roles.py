"""Who may act: roles and the acting person."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    INSPECTOR = "inspector"
    RECTIFIER = "rectifier"
    REVIEWER = "reviewer"
    SAFETY_ENGINEER = "safety_engineer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the system) performing a use case. ``user_id`` is None only for the system."""

    user_id: int | None
    name: str
    role: Role


# Automatic steps (camera findings, sensor tiers, sweeps) act as the system; it never reviews or closes.
SYSTEM = Actor(user_id=None, name="system", role=Role.SAFETY_ENGINEER)
