from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from cameras.config import CameraConfig
from cameras.quality import QualityFlag, assess, is_black
from cameras.sharding import cameras_for_shard, shard_of


def _camera(index: int) -> CameraConfig:
    return CameraConfig(id=f"cam-{index:04d}", name=f"Camera {index}", url="rtsp://10.0.0.1/x", zone="z")


def test_shards_cover_every_camera_exactly_once_and_are_balanced() -> None:
    cameras = [_camera(i) for i in range(2000)]
    for workers in (1, 2, 3, 5, 8):
        shards = [cameras_for_shard(cameras, index, workers) for index in range(workers)]
        ids = [c.id for shard in shards for c in shard]
        assert sorted(ids) == sorted(c.id for c in cameras)  # no overlap, nothing lost
        expected = len(cameras) / workers
        assert all(abs(len(shard) - expected) < 0.2 * expected for shard in shards)


def test_adding_a_worker_moves_only_its_share_of_cameras() -> None:
    ids = [f"cam-{i}" for i in range(2000)]
    moved = sum(shard_of(i, 4) != shard_of(i, 5) for i in ids)
    assert moved < 2000 * 0.3  # ~1/5 move; a modulo hash would move ~4/5
    assert Counter(shard_of(i, 5) for i in ids if shard_of(i, 4) != shard_of(i, 5)) == Counter(
        {4: moved}
    )  # and they all move to the new worker


def test_shard_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        shard_of("a", 0)
    with pytest.raises(ValueError):
        cameras_for_shard([], 3, 3)


def _noisy_scene(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(40, 220, (120, 160, 3), dtype=np.uint8)


def test_frozen_black_and_decode_error_flags() -> None:
    first = assess(_noisy_scene(1), previous_digest=None)
    assert first.flags == frozenset()
    repeat = assess(_noisy_scene(1), previous_digest=first.digest)
    assert repeat.flags == {QualityFlag.FROZEN}
    one_pixel = _noisy_scene(1)
    one_pixel[5, 5, 0] ^= 1
    assert assess(one_pixel, previous_digest=first.digest).flags == frozenset()
    black = np.zeros((120, 160, 3), np.uint8)
    assert assess(black, previous_digest=None).flags == {QualityFlag.BLACK}
    assert assess(_noisy_scene(2), previous_digest=None, decode_error=True).flags == {
        QualityFlag.DECODE_ERROR
    }


def test_dark_scene_with_lights_is_not_black() -> None:
    night = np.full((240, 320, 3), 4, np.uint8)
    assert is_black(night)
    night[100:140, 150:190] = 255  # a lamp
    assert not is_black(night)
