"""Which worker polls which camera: rendezvous (highest-random-weight) hashing.

Every worker computes the same answer from the camera id alone, so N workers split M cameras with
no overlap and no coordination; when N changes only about 1/N of the cameras move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeVar

from cameras.config import CameraConfig

T = TypeVar("T", bound=CameraConfig)


def _weight(camera_id: str, shard: int) -> int:
    digest = hashlib.blake2b(f"{shard}\x00{camera_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(camera_id: str, shard_count: int) -> int:
    if shard_count < 1:
        raise ValueError(f"shard_count must be >= 1, got {shard_count}")
    return max(range(shard_count), key=lambda shard: _weight(camera_id, shard))


def cameras_for_shard(cameras: Iterable[T], shard_index: int, shard_count: int) -> tuple[T, ...]:
    if not 0 <= shard_index < shard_count:
        raise ValueError(f"shard_index {shard_index} is outside 0..{shard_count - 1}")
    return tuple(c for c in cameras if shard_of(c.id, shard_count) == shard_index)
