"""Detections and findings: the small immutable types every other package speaks.

Boxes are ``x1, y1, x2, y2`` in pixels of the *input* image (after EXIF orientation), float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def _frozen_array(values: npt.ArrayLike, dtype: type, shape_tail: tuple[int, ...]) -> npt.NDArray[np.generic]:
    array: npt.NDArray[np.generic] = np.array(values, dtype=dtype).reshape((-1, *shape_tail))
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class Detections:
    """N detections from one image: boxes (N, 4) xyxy, confidences (N,), class ids (N,), class names."""

    boxes: FloatArray
    confidences: FloatArray
    class_ids: IntArray
    class_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        boxes = _frozen_array(self.boxes, np.float32, (4,))
        confidences = _frozen_array(self.confidences, np.float32, ()).reshape(-1)
        class_ids = _frozen_array(self.class_ids, np.int64, ()).reshape(-1)
        if not (len(boxes) == len(confidences) == len(class_ids)):
            raise ValueError(
                f"Detections arrays disagree in length: boxes {len(boxes)}, "
                f"confidences {len(confidences)}, class_ids {len(class_ids)}"
            )
        if self.class_names and len(class_ids) and int(class_ids.max()) >= len(self.class_names):
            raise ValueError(f"class id {int(class_ids.max())} has no name in {self.class_names}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "confidences", confidences)
        object.__setattr__(self, "class_ids", class_ids)

    @classmethod
    def empty(cls, class_names: tuple[str, ...] = ()) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), class_names)

    def __len__(self) -> int:
        return len(self.confidences)

    def label(self, index: int) -> str:
        class_id = int(self.class_ids[index])
        return self.class_names[class_id] if self.class_names else str(class_id)

    def box(self, index: int) -> Box:
        x1, y1, x2, y2 = (float(v) for v in self.boxes[index])
        return (x1, y1, x2, y2)

    def filter(self, keep: npt.NDArray[np.bool_]) -> Detections:
        return Detections(self.boxes[keep], self.confidences[keep], self.class_ids[keep], self.class_names)

    def scaled(self, scale_x: float, scale_y: float) -> Detections:
        """The same detections in an image ``scale_x`` by ``scale_y`` times this one's size."""
        factors = np.array([scale_x, scale_y, scale_x, scale_y], dtype=np.float32)
        return Detections(self.boxes * factors, self.confidences, self.class_ids, self.class_names)


@dataclass(frozen=True, slots=True)
class Finding:
    """A safety-relevant conclusion drawn from detections, e.g. ``ppe.no_helmet`` or ``leak.drip``."""

    kind: str
    confidence: float
    box: Box

    def scaled(self, scale_x: float, scale_y: float) -> Finding:
        x1, y1, x2, y2 = self.box
        return Finding(self.kind, self.confidence, (x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y))
