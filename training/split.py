"""Deterministic train/val(/test) split by hashing the file name with a seed.

A file's split depends only on its own name and the seed, so adding images never moves existing ones
between splits (a held-out image stays held out), and the split is reproducible on any machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SplitResult:
    train: tuple[Path, ...]
    val: tuple[Path, ...]
    test: tuple[Path, ...]


def unit_hash(name: str, seed: int) -> float:
    """Map (seed, file name) to a uniform value in [0, 1)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_paths(images: list[Path], *, val: float, test: float = 0.0, seed: int = 0) -> SplitResult:
    """Assign each image by ``unit_hash(name)``: [0, val) → val, [val, val+test) → test, rest → train."""
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(f"fractions must satisfy 0 <= val, test and val + test < 1 (got {val}, {test})")
    tr: list[Path] = []
    va: list[Path] = []
    te: list[Path] = []
    for p in sorted(images):
        u = unit_hash(p.name, seed)
        (va if u < val else te if u < val + test else tr).append(p)
    return SplitResult(tuple(tr), tuple(va), tuple(te))


def write_split(result: SplitResult, names: tuple[str, ...], out_dir: Path) -> Path:
    """Write ``train.txt``/``val.txt``/``test.txt`` image lists and a ``data.yaml`` using them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"path: {out_dir.resolve()}"]
    for split, paths in (("train", result.train), ("val", result.val), ("test", result.test)):
        if split == "test" and not paths:
            continue
        (out_dir / f"{split}.txt").write_text("".join(f"{p.resolve()}\n" for p in paths))
        lines.append(f"{split}: {split}.txt")
    lines.append("names:")
    lines.extend(f"  {i}: {n}" for i, n in enumerate(names))
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text("\n".join(lines) + "\n")
    return data_yaml
