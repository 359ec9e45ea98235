"""What the face blurring misses, on held-out labelled photos (issue 13, item 9).

    nice -n 5 python bench/bench_face_blur.py [--data D.yaml] [--floor 0.05] [--limit N] [--examples DIR]

The service's own path (ImageAnalyzer.faces): the shipped PPE model's head boxes at its card thresholds
plus its blur-only pass at the privacy floor (``--floor``; 1.0 leaves only the first), grown into face
regions (vision.privacy). Every labelled head and helmet box of the validation split (never trained on)
is a face to hide; it counts as hidden when ≥ 70 % of it lies inside the blurred regions. Prints the
share hidden, by head height, and the share of image area blurred away from any head (over-blurring).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving.pipelines.detection import ImageAnalyzer  # noqa: E402
from training.face_coverage import HIDDEN_AT, image_coverage  # noqa: E402
from training.yolo_dataset import load_split  # noqa: E402
from vision.images import read_image  # noqa: E402
from vision.registry import ModelRegistry  # noqa: E402

BUCKETS = ((0.0, 20.0, "< 20 px"), (20.0, 40.0, "20-40 px"), (40.0, 1e9, "≥ 40 px"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, action="append", help="YOLO data yaml (repeatable)")
    parser.add_argument("--floor", type=float, default=0.05, help="privacy detection floor (1.0: none)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many images per set (0: all)")
    parser.add_argument("--examples", type=Path, help="write the 6 worst-covered images here (PNG)")
    args = parser.parse_args()
    sets = args.data or [ROOT / "datasets" / "hardhat_valid.yaml", ROOT / "datasets" / "css_valid.yaml"]
    analyzer = ImageAnalyzer(ModelRegistry(ROOT / "models"), ("ppe",))
    report = {}
    for data in sets:
        dataset, _ = load_split(data, "val")
        face_ids = {i for i, n in enumerate(dataset.names) if n in ("head", "helmet")}
        items = dataset.items[: args.limit] if args.limit else dataset.items
        covered: list[float] = []
        heights: list[float] = []
        over: list[float] = []
        worst: list[tuple[float, Path]] = []
        started = time.perf_counter()
        for n, item in enumerate(items, 1):
            image = read_image(item.image, max_pixels=50_000_000)
            height, width = image.shape[:2]
            heads = [b.xyxy(width, height) for b in item.boxes if b.cls in face_ids]
            analysis = analyzer.analyze(image)
            regions = (
                analyzer.faces(image, analysis, args.floor)
                if args.floor < 1.0
                else analysis.face_regions(width, height)
            )
            result = image_coverage(heads, regions, width, height)
            covered += result.covered
            heights += result.heights
            over.append(result.over_blur)
            if result.covered:
                worst.append((float(np.mean([c >= HIDDEN_AT for c in result.covered])), item.image))
            if n % 100 == 0:
                print(f"  {data.name}: {n}/{len(items)} images", file=sys.stderr)
        hidden = np.array(covered) >= HIDDEN_AT
        sizes = np.array(heights)
        by_size = {
            label: {"faces": int(m.sum()), "hidden": round(float(hidden[m].mean()), 3) if m.any() else None}
            for low, high, label in BUCKETS
            if (m := (sizes >= low) & (sizes < high)) is not None
        }
        report[data.name] = {
            "images": len(items),
            "faces": len(covered),
            "hidden": round(float(hidden.mean()), 3),
            "missed": int((~hidden).sum()),
            "by_head_height": by_size,
            "over_blur_area": round(float(np.mean(over)), 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        if args.examples:
            args.examples.mkdir(parents=True, exist_ok=True)
            for share, path in sorted(worst)[:6]:
                image = read_image(path, max_pixels=50_000_000)
                analysis = analyzer.analyze(image)
                shown = analysis.annotated(
                    image, "en", analyzer.faces(image, analysis, min(args.floor, 0.99))
                )
                cv2.imwrite(str(args.examples / f"{data.stem}-{path.stem}-{share:.2f}.png"), shown)
    print(json.dumps({"floor": args.floor, "sets": report}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
