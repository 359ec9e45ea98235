"""Cost of one ``camera.inspect`` task against its own detector call, in the same process.

    python bench/bench_camera_inspect.py [N]

Baseline: ``container.analyzer.analyze`` on the decoded fixture frame (the unavoidable part). Full:
the task as the monitor runs it — JPEG decode from the object store, detectors, annotation, crop and
annotated-frame JPEG writes, observation ingest (one open hazard, evidence appended), presence check.
The ratio shows what the pipeline adds around inference (embedded profile: SQLite + local objects).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from serving.pipelines.camera_inspect import InspectPayload  # noqa: E402
from serving.pipelines.camera_monitor import inspect_task  # noqa: E402
from tests.support.api import api_harness, embedded_settings  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "hardhat" / "images" / "004951.jpg"


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, api_harness(embedded_settings(Path(tmp))) as api:
        c = api.container
        task = inspect_task(c)
        assert task is not None
        loaded = cv2.imread(str(FIXTURE))
        assert loaded is not None
        image = np.asarray(loaded, dtype=np.uint8)
        key = c.objects.put(FIXTURE.read_bytes(), content_type="image/jpeg").key
        c.analyzer.analyze(image)  # load the model outside the timings
        base, full = [], []
        start = datetime.now(UTC) - timedelta(seconds=n + 5)
        for i in range(n):
            t0 = time.perf_counter()
            c.analyzer.analyze(image)
            base.append(time.perf_counter() - t0)
            payload = InspectPayload(
                camera_id="bench",
                zone="z",
                snapshot_key=key,
                captured_at=start + timedelta(seconds=i),
                sequence=i,
            )
            t0 = time.perf_counter()
            task(payload)
            full.append(time.perf_counter() - t0)
        b, f = statistics.median(base), statistics.median(full)
        print(f"n={n}  analyze median {b * 1000:.1f} ms   camera.inspect median {f * 1000:.1f} ms")
        print(
            f"ratio inspect/analyze (median): {f / b:.2f}x   pipeline overhead {(f - b) * 1000:.1f} ms/frame"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
