"""Shards for the GPU machine: each fits one call's budget, images stay with their labels, nothing lost."""

from __future__ import annotations

import tarfile
from pathlib import Path

from training.gpu_pack import Member, shard, write_tar


def _pairs(n: int, image_bytes: int) -> list[Member]:
    out = []
    for i in range(n):
        out += [
            Member(f"images/train/{i}.jpg", b"x" * image_bytes),
            Member(f"labels/train/{i}.txt", b"0 .5 .5 .1 .1\n"),
        ]
    return out


def test_shards_respect_the_budget_and_keep_pairs_together() -> None:
    items = _pairs(10, 3000)  # each pair: 3000 + 14 bytes + 2 x 1024 of tar overhead = 5062
    shards = shard(items, budget=16_000, first_extra=6_000)
    # first shard: 6000 wheels + one pair (11,062; a second would make 16,124 > 16,000); then 3 pairs each
    assert [len(s) // 2 for s in shards] == [1, 3, 3, 3]
    assert [m.name for s in shards for m in s] == [m.name for m in items]  # order kept, nothing lost
    for s in shards:
        assert all(a.name.startswith("images/") and b.name == f"labels/train/{a.name[13:-4]}.txt"
                   for a, b in zip(s[::2], s[1::2], strict=True))  # fmt: skip


def test_a_pair_larger_than_the_budget_still_gets_a_shard_of_its_own() -> None:
    shards = shard(_pairs(2, 50_000), budget=10_000, first_extra=0)
    assert [len(s) for s in shards] == [2, 2]


def test_tar_round_trip(tmp_path: Path) -> None:
    items = _pairs(2, 10)
    write_tar(tmp_path / "s" / "data.tar", items)
    with tarfile.open(tmp_path / "s" / "data.tar") as tar:
        assert [(m.name, m.size) for m in tar.getmembers()] == [(m.name, len(m.data)) for m in items]
