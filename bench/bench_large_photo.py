"""Memory and time of one 49-megapixel upload through intake and analysis, and of eight at once (issue 12).

    nice -n 5 python bench/bench_large_photo.py [--megapixels 49] [--concurrent 8]

Baseline (the path before issue 12, rebuilt here from today's parts): the intake decodes the full photo and
re-encodes it to strip EXIF, the analysis decodes the stored photo in full, runs the detector and draws and
encodes the annotated copy at full size. Current: the intake strips metadata losslessly after a 1/8-size
check decode; the analysis decodes at most 4096 px (DCT scaling) under the process's decode slots. Each
variant runs in its own child process, so the peak resident memory (ru_maxrss) is that variant's alone;
ratios are baseline / current, measured in the same run on the same photo.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_photo(path: Path, megapixels: float) -> None:
    width = int((megapixels * 1e6 * 3 / 2) ** 0.5)
    height = int(width * 2 / 3)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (height // 16, width // 16, 3), dtype=np.uint8)  # texture that compresses
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    path.write_bytes(data.tobytes())


def child(variant: str, photo: Path, concurrent: int) -> dict[str, float]:
    from cameras.photos import IntakeLimits, intake_photo
    from serving.pipelines.decodes import DecodeSlots
    from serving.pipelines.detection import ImageAnalyzer
    from vision.images import decode_image, decode_scaled, encode_jpeg
    from vision.registry import ModelRegistry

    analyzer = ImageAnalyzer(ModelRegistry(ROOT / "models"), ("ppe",))
    data = photo.read_bytes()
    slots = DecodeSlots(2, wait_s=600.0)
    limits = IntakeLimits(max_bytes=10**9, max_pixels=60_000_000, strip_exif=True)

    def baseline() -> None:
        image = decode_image(data, source="p", max_pixels=limits.max_pixels)
        _, stored = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])  # the old EXIF strip
        del image
        full = decode_image(stored.tobytes(), source="p", max_pixels=limits.max_pixels)
        analysis = analyzer.analyze(full)
        encode_jpeg(analysis.annotated(full))

    def current() -> None:
        with slots.hold("p"):
            stored = intake_photo(data, source="p", limits=limits).stored_bytes
        with slots.hold("p"):
            decoded = decode_scaled(stored, source="p", max_pixels=limits.max_pixels, max_side=4096)
        analysis = analyzer.analyze(decoded.image)
        encode_jpeg(analysis.annotated(decoded.image))

    run = {"baseline": baseline, "current": current, "idle": lambda: None}[variant]
    analyzer.analyze(np.zeros((64, 64, 3), np.uint8))  # load the model outside the measurement
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrent) as pool:
        for future in [pool.submit(run) for _ in range(concurrent)]:
            future.result()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(variant: str, photo: Path, concurrent: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", variant, "--photo", str(photo)]
    out = subprocess.run(
        [*command, "--concurrent", str(concurrent)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megapixels", type=float, default=49.0)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--child", choices=("baseline", "current", "idle"))
    parser.add_argument("--photo", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.photo, args.concurrent)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "large.jpg"
        make_photo(photo, args.megapixels)
        idle = measure("idle", photo, 1)["peak_mb"]
        print(f"photo: {args.megapixels:g} Mpx, {photo.stat().st_size / 1e6:.1f} MB JPEG; "
              f"process with the model loaded: {idle:.0f} MB")  # fmt: skip
        for concurrent in (1, args.concurrent):
            base = measure("baseline", photo, concurrent)
            cur = measure("current", photo, concurrent)
            print(
                f"{concurrent} at once: baseline {base['peak_mb']:.0f} MB peak, {base['seconds']:.1f} s; "
                f"current {cur['peak_mb']:.0f} MB, {cur['seconds']:.1f} s; "
                f"memory above idle {(base['peak_mb'] - idle) / (cur['peak_mb'] - idle):.2f}x less, "
                f"{base['seconds'] / cur['seconds']:.2f}x faster"
            )


if __name__ == "__main__":
    main()
