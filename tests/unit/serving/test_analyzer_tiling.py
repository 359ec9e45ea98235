"""Camera tiling through the service's analyzer, with the shipped models: far bare heads are found in
tiles, the leak model always sees the whole frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from serving.pipelines.detection import ImageAnalyzer
from vision.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[3]
PHOTO = ROOT / "tests" / "fixtures" / "hardhat" / "images" / "004951.jpg"  # seven bare heads


def _far_frame() -> np.ndarray:
    """A 1920x1080 grey frame with the photo shrunk to 420 px wide: heads of ~25 px, far workers."""
    photo = cv2.imread(str(PHOTO))
    assert photo is not None
    small = cv2.resize(photo, (420, int(photo.shape[0] * 420 / photo.shape[1])), interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 95, np.uint8)
    frame[600 : 600 + small.shape[0], 1300 : 1300 + small.shape[1]] = small
    return frame


def test_tiles_find_far_bare_heads_and_leave_the_leak_model_whole() -> None:
    analyzer = ImageAnalyzer(ModelRegistry(ROOT / "models"), ("ppe", "leak"), tiled=("ppe",))
    frame = _far_frame()
    whole = analyzer.analyze(frame)
    tiled = analyzer.analyze(frame, tiling="auto")
    bare_whole = [f for f in whole.findings if f.kind == "ppe.no_helmet"]
    bare_tiled = [f for f in tiled.findings if f.kind == "ppe.no_helmet"]
    assert len(bare_tiled) >= 3 and len(bare_tiled) > len(bare_whole)
    assert all(f.box[0] >= 1300 and f.box[2] <= 1720 and f.box[1] >= 600 for f in bare_tiled)  # on the photo
    leak_whole, leak_tiled = (next(r for r in a.runs if r.model.startswith("leak")) for a in (whole, tiled))
    np.testing.assert_array_equal(leak_tiled.detections.boxes, leak_whole.detections.boxes)
