"""Helpers for the hazard API tests: a hazard created from a real fixture photo, and after photos."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from serving.bootstrap import Container
from workflow.domain.observations import Observation, SourceKind
from workflow.services.hazards import ingest_observation

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"
Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]


def fixture(name: str) -> tuple[Image, Box]:
    boxes = json.loads((FIXTURES / "boxes.json").read_text())
    read = cv2.imread(str(FIXTURES / f"{name}.jpg"))
    assert read is not None
    x1, y1, x2, y2 = boxes[name]["box"]
    return np.asarray(read, np.uint8), (float(x1), float(y1), float(x2), float(y2))


def jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


def rectified(image: Image, box: Box, angle: float = 12.0, scale: float = 1.2) -> Image:
    """The same scene re-photographed from another viewpoint with the hazard region inpainted away.

    The box grown by 15 % is inpainted: the labelled box stops at the hairline, and inpainting only the box
    leaves a dark head-shaped blob that a good detector still calls a bare head (it did: 0.38)."""
    mask = np.zeros(image.shape[:2], np.uint8)
    mx, my = (box[2] - box[0]) * 0.15, (box[3] - box[1]) * 0.15
    x1, y1 = max(0, round(box[0] - mx)), max(0, round(box[1] - my))
    x2, y2 = round(box[2] + mx), round(box[3] + my)
    mask[y1:y2, x1:x2] = 255
    fixed = np.asarray(cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA), np.uint8)
    return warp(fixed, box, angle, scale)


def warp(image: Image, box: Box, angle: float, scale: float) -> Image:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    a = math.radians(angle)
    rot = np.array(
        [
            [scale * math.cos(a), -scale * math.sin(a), 0],
            [scale * math.sin(a), scale * math.cos(a), 0],
            [0, 0, 1],
        ]
    )
    centre = np.array([[1, 0, image.shape[1] / 2], [0, 1, image.shape[0] / 2], [0, 0, 1]], np.float64)
    h = centre @ rot @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    out = cv2.warpPerspective(image, h, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)
    return np.asarray(out, np.uint8)


def make_hazard(
    container: Container,
    *,
    name: str = "hardhat_b",
    kind: str = "ppe.no_helmet",
    area: str = "罐区A",
    description: str = "作业人员未戴安全帽",
    equipment_id: str | None = None,
    with_photo: bool = True,
    with_box: bool = True,
    severity: int | None = None,
    zone: str = "zone-1",
) -> int:
    """A hazard from a photo observation; a fresh equipment id unless given (photos of one equipment
    merge into one hazard)."""
    keys: tuple[str, ...] = ()
    box: Box | None = None
    if with_photo:
        image, fixture_box = fixture(name)
        keys = (container.objects.put(jpeg(image), content_type="image/jpeg").key,)
        box = fixture_box if with_box else None
    result = ingest_observation(
        container.workflow,
        Observation(
            observation_id=uuid.uuid4().hex,
            kind=kind,
            confidence=0.9,
            zone=zone,
            area=area,
            source_kind=SourceKind.PHOTO,
            source_id="phone-7",
            observed_at=datetime.now(UTC) - timedelta(seconds=5),
            evidence_keys=keys,
            box=box,
            equipment_id=equipment_id if equipment_id is not None else f"P-{uuid.uuid4().hex[:8]}",
            description=description,
            reported_by="inspector-user",
            severity=severity,
        ),
    )
    assert result.hazard_id is not None
    return result.hazard_id
