"""PPE compliance rules: detections → findings such as ``ppe.no_helmet`` and ``ppe.no_vest``.

Works with whatever the model provides: the hardhat model's ``head`` (a head without a helmet),
``helmet`` and sparse ``person`` classes, and ``vest``/``no_vest`` when a model has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.detections import Detections, Finding
from vision.nms import box_iou

NO_HELMET = "ppe.no_helmet"
NO_VEST = "ppe.no_vest"
SAME_PERSON_IOU = 0.5  # a head and a helmet box this overlapping are one person's head ...
SAME_PERSON_INSIDE = 0.6  # ... or when this much of the smaller box lies inside the larger one


@dataclass(frozen=True, slots=True)
class ZoneRequirements:
    """What PPE a zone demands; configured per zone by the serving layer."""

    helmet: bool = True
    vest: bool = False


@dataclass(frozen=True, slots=True)
class Worker:
    """One person as the detector sees them: a head region and, when detected, the whole body."""

    head_box: tuple[float, float, float, float] | None
    person_box: tuple[float, float, float, float] | None
    wearing_helmet: bool | None
    confidence: float


def _indices(detections: Detections, name: str) -> npt.NDArray[np.int64]:
    if name not in detections.class_names:
        return np.zeros(0, dtype=np.int64)  # pragma: no mutate (an empty index of any dtype selects nothing)
    return np.flatnonzero(detections.class_ids == detections.class_names.index(name))


def _inside_fraction(inner: npt.NDArray[np.float32], outer: npt.NDArray[np.float32]) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    w = max(0.0, float(min(inner[2], outer[2]) - max(inner[0], outer[0])))
    h = max(0.0, float(min(inner[3], outer[3]) - max(inner[1], outer[1])))
    area = float((inner[2] - inner[0]) * (inner[3] - inner[1]))
    return (w * h) / area if area > 0 else 0.0


def _one_head(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> bool:
    """Two head/helmet boxes that are the same person's head."""
    # A fast path, not a rule of its own: IoU ≥ 0.5 means the smaller box lies ≥ 2/3 inside the larger
    # (intersection ≥ (area_a + area_b) / 3 ≥ 2/3 of the smaller), past SAME_PERSON_INSIDE anyway, so
    # mutating this comparison is equivalent.
    if float(box_iou(a, b[None, :])[0]) >= SAME_PERSON_IOU:  # pragma: no mutate
        return True
    smaller, larger = (a, b) if _area(a) <= _area(b) else (b, a)
    return _inside_fraction(smaller, larger) >= SAME_PERSON_INSIDE


def _area(box: npt.NDArray[np.float32]) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def _upper_body(person: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    # Heads sit in the top part of a standing or crouching person's box.
    top = person[1] + (person[3] - person[1]) * 0.4
    return np.array(
        [person[0], person[1], person[2], top], np.float32
    )  # pragma: no mutate (dtype: any float)


def workers(detections: Detections) -> list[Worker]:
    """Group head/helmet/person boxes into workers.

    Every head or helmet box is a person; a head and a helmet box overlapping by IoU ≥ 0.5 are one
    head, and so are two boxes one of which lies mostly (≥ 60 %) inside the other: a detector often boxes
    the face under a helmet as a "head" inside the larger helmet box, at an IoU near 0.25. The more
    confident of the two decides whether the helmet is worn. Person boxes with a head/helmet in their
    upper part are attached to it; person boxes with none are workers whose helmet state is unknown.
    """
    heads, helmets, persons = (_indices(detections, n) for n in ("head", "helmet", "person"))
    boxes, conf = detections.boxes, detections.confidences
    candidates = [(int(i), False) for i in heads] + [(int(i), True) for i in helmets]
    candidates.sort(key=lambda item: -float(conf[item[0]]))
    chosen: list[tuple[int, bool]] = []
    for index, is_helmet in candidates:
        if any(_one_head(boxes[index], boxes[c]) for c, _ in chosen):
            continue
        chosen.append((index, is_helmet))
    result: list[Worker] = []
    used_persons: set[int] = set()
    for index, is_helmet in chosen:
        owner = next(
            (
                int(p)
                for p in persons
                if int(p) not in used_persons and _inside_fraction(boxes[index], _upper_body(boxes[p])) >= 0.5
            ),
            None,
        )
        if owner is not None:
            used_persons.add(owner)
        result.append(
            Worker(
                head_box=detections.box(index),
                person_box=detections.box(owner) if owner is not None else None,
                wearing_helmet=is_helmet,
                confidence=float(conf[index]),
            )
        )
    result += [
        Worker(None, detections.box(int(p)), None, float(conf[p]))
        for p in persons
        if int(p) not in used_persons
    ]
    return result


def count_people(detections: Detections) -> int:
    """People visible: each head or helmet box is a person, plus persons whose head is not visible."""
    return len(workers(detections))


def ppe_findings(detections: Detections, requirements: ZoneRequirements | None = None) -> list[Finding]:
    """Findings for one image's (already thresholded) detections under a zone's requirements."""
    required = requirements or ZoneRequirements()
    findings: list[Finding] = []
    if required.helmet:
        # The head box, not the person box: it is the region a rectification photo must show fixed.
        findings += [  # pragma: no mutate (`=`: the list is still empty here)
            Finding(NO_HELMET, w.confidence, w.head_box)
            for w in workers(detections)
            if w.wearing_helmet is False and w.head_box is not None
        ]
    if required.vest:
        findings += _vest_findings(detections)
    return findings


def _vest_findings(detections: Detections) -> list[Finding]:
    explicit = _indices(detections, "no_vest")
    findings = [Finding(NO_VEST, float(detections.confidences[i]), detections.box(int(i))) for i in explicit]
    if "vest" in detections.class_names and not len(explicit):
        vests = _indices(detections, "vest")
        for p in _indices(detections, "person"):
            person = detections.boxes[p]
            if not any(_inside_fraction(detections.boxes[v], person) >= 0.5 for v in vests):
                findings.append(Finding(NO_VEST, float(detections.confidences[p]), detections.box(int(p))))
    return findings


def person_boxes(detections: Detections) -> list[tuple[float, float, float, float]]:
    """Every person the detections show: the body box where there is one, else the head."""
    boxes = [worker.person_box or worker.head_box for worker in workers(detections)]
    return [box for box in boxes if box is not None]
