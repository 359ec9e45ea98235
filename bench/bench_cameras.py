"""Camera ingest cost: CPU-seconds per snapshot and snapshot latency, 1/10/50 cameras, on loopback.

    python bench/bench_cameras.py [--counts 1 10 50] [--window 30] [--interval 5]

One GStreamer RTSP server process (a separate process, so its CPU is not counted) serves N mount
paths of one generated H.264 video; one ``CameraScheduler`` in this process polls all of them. CPU
is ``time.process_time()`` of this process over the steady-state window (after one interval of
warm-up). Ratios are printed against on-demand mode at the same camera count, measured in this run.
Needs the Debian GStreamer packages (scripts/system-packages); skips cleanly without them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cameras.config import CameraConfig, CaptureMode  # noqa: E402
from cameras.scheduler import CameraScheduler  # noqa: E402
from cameras.snapshot import Snapshot  # noqa: E402
from tests.support.rtsp_process import RtspServer, gstreamer_available  # noqa: E402
from tests.support.video import write_pattern_video  # noqa: E402


@dataclass(frozen=True)
class Result:
    mode: str
    cameras: int
    snapshots: int
    flagged: int
    failures: int
    cpu_s: float
    window_s: float
    latencies: tuple[float, ...]
    errors: tuple[str, ...]

    @property
    def cpu_per_snapshot_ms(self) -> float:
        return 1000 * self.cpu_s / max(1, self.snapshots)

    @property
    def core_pct(self) -> float:
        return 100 * self.cpu_s / self.window_s

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(server: RtspServer, mode: CaptureMode, count: int, interval: float, window: float) -> Result:
    cameras = [
        CameraConfig(
            id=f"cam{i}",
            name=f"Camera {i}",
            url=server.url(f"cam{i}"),
            zone="bench",
            interval_s=interval,
            mode=mode,
            open_timeout_s=5,
            read_timeout_s=5,
        )
        for i in range(count)
    ]
    lock = threading.Lock()
    measuring = threading.Event()
    seen: list[Snapshot] = []

    def sink(snapshot: Snapshot) -> None:
        if measuring.is_set():
            with lock:
                seen.append(snapshot)

    scheduler = CameraScheduler(cameras, sink, seed=0, max_spread_s=interval)
    scheduler.start()
    try:
        time.sleep(interval + 1.0)  # warm-up: connections, first keyframes
        failures_before = sum(row.failures for row in scheduler.health())
        measuring.set()
        cpu0, wall0 = time.process_time(), time.monotonic()
        time.sleep(window)
        cpu1, wall1 = time.process_time(), time.monotonic()
        measuring.clear()
        failures = sum(row.failures for row in scheduler.health()) - failures_before
        errors = tuple(sorted({row.last_error for row in scheduler.health() if row.last_error}))
    finally:
        scheduler.stop()
    with lock:
        snaps = list(seen)
    return Result(
        mode=mode.value,
        cameras=count,
        snapshots=len(snaps),
        flagged=sum(not s.is_evidence for s in snaps),
        failures=failures,
        cpu_s=cpu1 - cpu0,
        window_s=wall1 - wall0,
        latencies=tuple(s.latency_s for s in snaps),
        errors=errors,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--gop", type=int, default=30)
    args = parser.parse_args()
    if not gstreamer_available():
        print("SKIP: GStreamer RTSP server not installed (run scripts/system-packages)")
        return 0

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        seconds = args.interval + 1.0 + args.window + 30.0  # the file must outlast one run
        video = write_pattern_video(
            Path(tmp) / "bench.mp4",
            seconds=seconds,
            fps=args.fps,
            gop=args.gop,
            width=args.width,
            height=args.height,
        )
        print(f"video {args.width}x{args.height} @ {args.fps} fps, keyframe every {args.gop} frames")
        print(f"interval {args.interval:g}s per camera, {args.window:g}s measured window per run\n")
        header = (
            f"{'mode':<11}{'cams':>5}{'snaps':>7}{'bad':>5}{'fail':>6}{'cpu ms/snap':>13}"
            f"{'% of 1 core':>13}{'p50 lat s':>11}{'p95 lat s':>11}"
        )
        print(header)
        for count in args.counts:
            for mode in (CaptureMode.PERSISTENT, CaptureMode.ON_DEMAND):
                with RtspServer(video, mounts=count, live=True) as server:
                    result = run(server, mode, count, args.interval, args.window)
                results.append(result)
                print(
                    f"{result.mode:<11}{count:>5}{result.snapshots:>7}{result.flagged:>5}{result.failures:>6}"
                    f"{result.cpu_per_snapshot_ms:>13.2f}{result.core_pct:>13.1f}"
                    f"{result.pct(0.5):>11.3f}{result.pct(0.95):>11.3f}",
                    flush=True,
                )
                for error in result.errors:
                    print(f"{'':<11}last error seen: {error}")

    print("\nratios, persistent / on-demand at the same camera count:")
    for count in args.counts:
        persistent = next(r for r in results if r.cameras == count and r.mode == "persistent")
        on_demand = next(r for r in results if r.cameras == count and r.mode == "on_demand")
        cpu_ratio = persistent.cpu_per_snapshot_ms / on_demand.cpu_per_snapshot_ms
        lat_ratio = persistent.pct(0.95) / on_demand.pct(0.95)
        print(f"  {count:>3} cameras: cpu/snapshot x{cpu_ratio:.2f}, p95 latency x{lat_ratio:.2f}")
    target = [r for r in results if r.mode == "persistent" and r.cameras >= 50]
    for r in target:
        ok = r.core_pct < 50 and r.pct(0.95) < 1.0 and r.snapshots >= 0.9 * r.cameras * r.window_s / 5
        print(
            f"\ntarget (>=50 cameras @ 1/5s, <50% of a core, p95 < 1 s, persistent): "
            f"{'MET' if ok else 'NOT MET'} ({r.core_pct:.1f}% core, p95 {r.pct(0.95):.3f}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
