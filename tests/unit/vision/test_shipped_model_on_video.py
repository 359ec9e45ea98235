"""The shipped PPE model on a real H.264 clip of one worker wearing a helmet (issue 11's acceptance clip).

The clip is made from a held-out Public Domain photo (tests/fixtures/clip): a slow zoom and pan as a PTZ
camera would make, sensor noise, and H.264 compression, decoded back frame by frame with PyAV. Through
the registry (the card's thresholds) and the PPE rules, as the service runs it, the worker must never be
reported without a helmet, and exactly one helmet must be seen in most frames.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vision.ppe import NO_HELMET, ppe_findings, workers
from vision.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[3]
PHOTO = ROOT / "tests" / "fixtures" / "clip" / "one_worker_helmet.jpg"
FRAMES, FPS = 40, 10
SIZE = (360, 528)  # (w, h) of the clip, even for yuv420p


def _write_clip(path: Path) -> None:
    photo = cv2.imread(str(PHOTO))
    assert photo is not None
    worker = photo[:, 16:236]  # the worker: one person, one helmet (a far one at the left edge is cut off)
    h, w = worker.shape[:2]
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for i in range(FRAMES):
            t = i / (FRAMES - 1)
            zoom = 1.0 + 0.25 * t  # slow zoom in, drifting right and down
            cw, ch = int(w / zoom), int(h / zoom)
            x0, y0 = int(min(6.0, (w - cw) * t)), int(min(10.0, (h - ch) * t))  # the helmet stays whole
            frame = cv2.resize(worker[y0 : y0 + ch, x0 : x0 + cw], SIZE, interpolation=cv2.INTER_LINEAR)
            noisy = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    path = tmp_path_factory.mktemp("clip") / "one_worker.mp4"
    _write_clip(path)
    return _decoded(path)


def test_one_helmeted_worker_is_never_reported_bare_headed(clip: list[np.ndarray]) -> None:
    assert len(clip) == FRAMES
    _, detector = ModelRegistry(ROOT / "models").detector("ppe")
    per_frame = [detector.detect(frame) for frame in clip]
    bare = [i for i, d in enumerate(per_frame) if any(f.kind == NO_HELMET for f in ppe_findings(d))]
    assert bare == [], f"ppe.no_helmet in frames {bare}"
    one_helmet = sum(1 for d in per_frame if sum(w.wearing_helmet is True for w in workers(d)) == 1)
    assert one_helmet >= 0.8 * FRAMES, f"one helmet in only {one_helmet} of {FRAMES} frames"
