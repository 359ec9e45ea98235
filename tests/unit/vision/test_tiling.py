"""Tiled inference: the grid, when auto tiles, and the merge of tile and full-frame boxes."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from vision.detections import Detections
from vision.tiling import Tiling, detect_tiled, resolve, tile_grid


def test_grid_covers_a_1080p_frame_with_edge_flush_tiles() -> None:
    # step = 640 * 0.8 = 512; x: 0, 512, 1024 and 1280 (flush with 1920); y: 0 and 440 (flush with 1080)
    grid = tile_grid((1080, 1920), Tiling(640, 0.2))
    xs = sorted({t[0] for t in grid})
    ys = sorted({t[1] for t in grid})
    assert xs == [0, 512, 1024, 1280] and ys == [0, 440]
    assert len(grid) == 8 and all(x2 - x1 == 640 and y2 - y1 == 640 for x1, y1, x2, y2 in grid)
    assert tile_grid((300, 500), Tiling(640)) == [(0, 0, 500, 300)]  # smaller than one tile


@pytest.mark.parametrize(
    ("mode", "frame", "expected"),
    [
        ("off", (2160, 3840), None),
        ("auto", (1080, 1920), 640),  # 1920 >= 2 x 640
        ("auto", (720, 1280), 640),  # exactly 2 x 640
        ("auto", (720, 1279), None),
        (800, (1080, 1920), 800),
        (800, (600, 800), None),  # the frame is no larger than one tile
    ],
)
def test_resolve(mode: str | int, frame: tuple[int, int], expected: int | None) -> None:
    plan = resolve(mode, frame, 640)  # type: ignore[arg-type]
    assert (plan.tile if plan else None) == expected


def test_bad_tilings_are_refused() -> None:
    with pytest.raises(ValueError):
        Tiling(16)
    with pytest.raises(ValueError):
        Tiling(640, 0.95)


def _white_squares(images: Sequence[np.ndarray]) -> list[Detections]:
    """A stand-in detector: every white blob of a crop is a 'head' box in crop pixels."""
    out = []
    for image in images:
        mask = (image[:, :, 0] > 200).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = [(x, y, x + w, y + h) for x, y, w, h, _ in stats[1:n]]
        out.append(
            Detections(
                np.array(boxes, np.float32).reshape(-1, 4),
                np.full(len(boxes), 0.8, np.float32),
                np.zeros(len(boxes), np.int64),
                ("head",),
            )
        )
    return out


def test_tile_and_full_frame_boxes_merge_into_frame_pixels_and_edge_fragments_go() -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[100:130, 600:630] = 255  # inside tiles x=0 and x=512: the same head three times
    frame[700:730, 630:660] = 255  # cut by the right edge of tile x=0 (at 640): a 10-pixel fragment there
    merged = detect_tiled(_white_squares, frame, Tiling(640, 0.2), iou_threshold=0.45)
    boxes = sorted(tuple(float(v) for v in b) for b in merged.boxes)
    assert boxes == [(600.0, 100.0, 630.0, 130.0), (630.0, 700.0, 660.0, 730.0)]
    assert merged.class_names == ("head",)


def test_an_empty_frame_gives_no_detections() -> None:
    merged = detect_tiled(_white_squares, np.zeros((720, 1280, 3), np.uint8), Tiling(640), 0.45)
    assert len(merged) == 0
