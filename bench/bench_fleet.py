"""Fleet figure: camera frames inspected per second per core, end to end, FP32 vs INT8.

    python bench/bench_fleet.py [--counts 1 10 50] [--interval 5] [--window 60] [--precisions fp32 int8]

End to end is the service's own camera path in one process (embedded profile: SQLite, local objects,
in-process tasks): a GStreamer RTSP server (a separate process, its CPU not counted) streams a 1280x720
H.264 video of a worker photo (scaled to 960x720 on grey) on N mounts; the camera monitor decodes one
snapshot per camera every ``--interval`` seconds, runs the PPE model and the rules, and ingests the
observation (hazard, evidence, annotated frame). Per run it counts the inspections finished in the
measured window and this process's CPU time (``time.process_time``, all threads) over it:

    frames per core-second = inspections / CPU seconds   (the fleet figure: frames one core inspects)
    % of one core          = CPU seconds / window seconds

Runs of the same camera count are interleaved FP32, INT8, FP32, INT8 ... (``--repeat``), and INT8/FP32 is
printed per count. Needs the Debian GStreamer packages (scripts/system-packages); skips cleanly without.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from serving.pipelines.camera_board import CameraBoard  # noqa: E402
from serving.pipelines.camera_monitor import build_monitor, inspect_task  # noqa: E402
from serving.settings import CameraSettings, VisionSettings  # noqa: E402
from tests.support.api import api_harness, embedded_settings  # noqa: E402
from tests.support.rtsp_process import RtspServer, gstreamer_available  # noqa: E402
from tests.support.video import write_photo_video  # noqa: E402

PHOTO = ROOT / "tests" / "fixtures" / "hardhat" / "images" / "004951.jpg"  # bare heads: findings every frame
Precision = Literal["fp32", "int8"]


@dataclass(frozen=True)
class Run:
    precision: Precision
    cameras: int
    inspections: int
    cpu_s: float
    window_s: float

    @property
    def per_core_second(self) -> float:
        return self.inspections / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def core_pct(self) -> float:
        return 100 * self.cpu_s / self.window_s

    @property
    def expected(self) -> float:
        return self.cameras * self.window_s


def run_once(
    tmp: Path, server: RtspServer, precision: Precision, count: int, interval: float, window: float
) -> Run:
    config = tmp / f"cameras-{precision}-{count}.yaml"
    cameras = [
        {
            "id": f"cam{i}",
            "name": f"Camera {i}",
            "url": server.url(f"cam{i}"),
            "zone": "bench",
            "interval_s": interval,
        }
        for i in range(count)
    ]
    config.write_text(yaml.safe_dump({"cameras": cameras}))
    data = tmp / f"data-{precision}-{count}-{time.monotonic_ns()}"
    settings = embedded_settings(
        data, cameras=CameraSettings(config_file=config), vision=VisionSettings(precision=precision)
    )
    with api_harness(settings) as api:
        task = inspect_task(api.container)
        monitor = build_monitor(api.container, CameraBoard())
        assert task is not None and monitor is not None
        lock, measuring, done = threading.Lock(), threading.Event(), [0]

        def counted(_: object) -> None:
            if measuring.is_set():
                with lock:
                    done[0] += 1

        task.results.subscribe(counted)
        monitor.start()
        try:
            time.sleep(interval + 3.0)  # warm-up: connections, keyframes, the model's first runs
            measuring.set()
            cpu0, wall0 = time.process_time(), time.monotonic()
            time.sleep(window)
            cpu1, wall1 = time.process_time(), time.monotonic()
            measuring.clear()
        finally:
            monitor.stop(timeout_s=30)
        return Run(precision, count, done[0], cpu1 - cpu0, wall1 - wall0)


def _as_720p(photo: Path, tmp: Path) -> Path:
    """The photo scaled to 720 rows and centred on a grey 1280x720 frame: a camera-sized picture."""
    image = cv2.imread(str(photo))
    assert image is not None
    scaled = cv2.resize(
        image, (round(image.shape[1] * 720 / image.shape[0]), 720), interpolation=cv2.INTER_CUBIC
    )
    frame = np.full((720, 1280, 3), 114, np.uint8)
    x = (1280 - scaled.shape[1]) // 2
    frame[:, x : x + scaled.shape[1]] = scaled
    out = tmp / "frame720.png"
    cv2.imwrite(str(out), frame)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between snapshots per camera")
    parser.add_argument("--window", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs per precision and count")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "int8"], choices=["fp32", "int8"])
    args = parser.parse_args()
    if not gstreamer_available():
        print("SKIP: GStreamer RTSP server not installed (run scripts/system-packages)")
        return 0
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        seconds = int(args.interval + 3 + args.window + 40)
        runs_per_server = args.repeat * len(args.precisions)
        video = write_photo_video(
            _as_720p(PHOTO, tmp), tmp / "fleet.mp4", seconds=seconds * (runs_per_server + 1)
        )
        print(f"video of {PHOTO.name} (bare heads), one snapshot per camera every {args.interval:g} s")
        header = f"{'precision':<10}{'cams':>5}{'inspected':>11}{'of':>6}{'CPU s':>8}{'% core':>8}"
        print(header + f"{'frames/core-s':>15}")
        for count in args.counts:
            with RtspServer(video, mounts=count, live=True) as server:
                for _ in range(args.repeat):
                    for precision in args.precisions:
                        r = run_once(tmp, server, precision, count, args.interval, args.window)
                        runs.append(r)
                        snapshots = r.expected / args.interval
                        print(
                            f"{r.precision:<10}{r.cameras:>5}{r.inspections:>11}{snapshots:>6.0f}"
                            f"{r.cpu_s:>8.1f}{r.core_pct:>8.1f}{r.per_core_second:>15.2f}",
                            flush=True,
                        )
    if set(args.precisions) == {"fp32", "int8"}:
        print("\nINT8 / FP32, frames per core-second (median of the repeats):")
        for count in args.counts:
            rate = {
                p: statistics.median(
                    r.per_core_second for r in runs if r.cameras == count and r.precision == p
                )
                for p in ("fp32", "int8")
            }
            ratio = rate["int8"] / rate["fp32"]
            print(f"  {count:>3} cameras: {ratio:.2f}x ({rate['fp32']:.2f} → {rate['int8']:.2f})")
    for r in (r for r in runs if r.cameras >= 50):
        verdict = (
            "MET" if r.core_pct < 50 and r.inspections >= 0.9 * r.expected / args.interval else "NOT MET"
        )
        print(
            f"target (50 cameras @ 1/5 s, all frames inspected, < 50 % of one core), {r.precision}: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
