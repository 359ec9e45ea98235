"""Per-zone helmet counts of one camera frame for the PPE compliance KPI."""

from __future__ import annotations

import numpy as np

from cameras.config import ZonePolygon
from serving.pipelines.detection import ImageAnalysis, ModelRun
from serving.pipelines.presence import helmet_tally
from serving.settings import PpeRequirement, VisionSettings
from vision.detections import Detections
from workflow.services.camera_inspections import ZonePpe

NAMES = ("head", "helmet", "person")
LEFT = ZonePolygon(name="bay", points=((0, 0), (100, 0), (100, 100), (0, 100)))
RIGHT = ZonePolygon(name="control-room", points=((100, 0), (200, 0), (200, 100), (100, 100)))


def _analysis(boxes: list[tuple[float, float, float, float]], classes: list[int]) -> ImageAnalysis:
    detections = Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9, np.float32),
                            np.array(classes, np.int64), NAMES)  # fmt: skip
    return ImageAnalysis((ModelRun("ppe@2", detections, ()),), 0.0)


def test_people_are_counted_in_the_zone_their_head_is_in_and_only_where_a_helmet_is_demanded() -> None:
    vision = VisionSettings(ppe_zones={"control-room": PpeRequirement(helmet=False)})
    analysis = _analysis(
        [(10, 10, 20, 20), (40, 10, 50, 20), (70, 10, 80, 20),  # bay: two helmets, one bare head
         (120, 10, 130, 20), (150, 10, 160, 20),  # control room: not counted (no helmet demanded)
         (300, 10, 310, 20)],  # outside both polygons: the camera's own zone, bare
        [1, 1, 0, 0, 1, 0],
    )  # fmt: skip
    tally = helmet_tally(vision, analysis, (LEFT, RIGHT), "yard")
    assert tally == (ZonePpe("bay", 2, 1), ZonePpe("yard", 0, 1))


def test_a_frame_without_people_counts_nothing() -> None:
    assert helmet_tally(VisionSettings(), _analysis([], []), (LEFT,), "yard") == ()
