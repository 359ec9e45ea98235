"""Pack a campaign's built dataset into shards that each travel with one call to the GPU machine.

A device call carries the working tree plus what ``carry`` names, 64 MiB in all, so a shard's budget is
what the tree leaves. Images are re-encoded (long side ≤ ``max_side``, JPEG quality searched downward
until every shard fits) and spread over as few shards as fit; the first shard also carries the wheels the
device lacks. Run ``python -m training.gpu_pack --help``; ``scripts/gpu-train`` is the device side.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CALL_LIMIT = 64 * 1024 * 1024
MARGIN = 2 * 1024 * 1024  # the reply's metadata, a log, rounding


@dataclass(frozen=True)
class Member:
    name: str  # path inside the archive: images/<split>/x.jpg or labels/<split>/x.txt
    data: bytes


def tree_bytes(repo: Path) -> int:
    """Bytes of the files a device call sends: tracked plus untracked-not-ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return sum((repo / p.decode()).stat().st_size for p in listed if p and (repo / p.decode()).is_file())


def encode(path: Path, max_side: int, quality: int) -> bytes:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not an image")
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"{path}: JPEG encode failed")
    return np.asarray(buf).tobytes()


def members(data: Path, max_side: int, quality: int) -> list[Member]:
    out: list[Member] = []
    for split in ("train", "val"):
        for image in sorted((data / "images" / split).iterdir()):
            label = data / "labels" / split / f"{image.stem}.txt"
            out.append(Member(f"images/{split}/{image.stem}.jpg", encode(image, max_side, quality)))
            out.append(
                Member(f"labels/{split}/{image.stem}.txt", label.read_bytes() if label.exists() else b"")
            )
    return out


def shard(items: list[Member], budget: int, first_extra: int) -> list[list[Member]]:
    """Greedy split in order (an image stays with its label); the first shard leaves room for wheels."""
    shards: list[list[Member]] = [[]]
    used = first_extra
    for i in range(0, len(items), 2):
        pair = items[i : i + 2]
        size = sum(len(m.data) + 1024 for m in pair)  # tar header + padding
        if used + size > budget and shards[-1]:
            shards.append([])
            used = 0
        shards[-1].append(pair[0])
        shards[-1].extend(pair[1:])
        used += size
    return shards


def write_tar(path: Path, items: list[Member]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for m in items:
            info = tarfile.TarInfo(m.name)
            info.size = len(m.data)
            tar.addfile(info, io.BytesIO(m.data))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path("runs/campaign/ppe2/data"), help="built campaign data"
    )
    parser.add_argument("--out", type=Path, default=Path(".device"))
    parser.add_argument("--wheels", type=Path, required=True, help="folder of wheels the device lacks")
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--quality", type=int, default=80, help="starting JPEG quality (searched downward)")
    parser.add_argument("--max-shards", type=int, default=6)
    args = parser.parse_args()
    repo = Path.cwd()
    budget = CALL_LIMIT - MARGIN - tree_bytes(repo)
    wheels = sorted(args.wheels.glob("*.whl"))
    wheel_bytes = sum(w.stat().st_size for w in wheels)
    if budget <= wheel_bytes:
        raise SystemExit(f"the working tree leaves {budget / 2**20:.1f} MiB per call: nothing fits")
    for quality in range(args.quality, 29, -10):
        shards = shard(members(args.data, args.max_side, quality), budget, wheel_bytes)
        if len(shards) <= args.max_shards:
            break
    else:
        raise SystemExit(f"{args.data} does not fit {args.max_shards} shards of {budget / 2**20:.1f} MiB")
    for old in args.out.glob("shard*/data.tar"):
        old.unlink()
    for n, items in enumerate(shards, 1):
        folder = args.out / f"shard{n}"
        write_tar(folder / "data.tar", items)
        if n == 1:
            (folder / "wheels").mkdir(exist_ok=True)
            for w in wheels:
                (folder / "wheels" / w.name).write_bytes(w.read_bytes())
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"{folder}: {size / 2**20:.1f} MiB ({len(items) // 2} images)")
    tree = tree_bytes(repo) / 2**20
    print(
        f"{len(shards)} shards at JPEG quality {quality}, long side ≤ {args.max_side}; "
        f"budget per call {budget / 2**20:.1f} MiB (64 MiB minus a {tree:.1f} MiB working tree)"
    )


if __name__ == "__main__":
    main()
