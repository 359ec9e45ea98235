"""Before/after verification of a rectification: the after photos against the hazard's first photo and box.

vision.matching registers each after photo onto the before photo and checks the hazard box (local change
plus a detector re-check through the shared analyzer); the after photo that registers best decides. The
side-by-side evidence image is stored as an object. Nothing to compare with (no before photo, no box, an
unreadable before object) is ``needs_reinspection``, never ``resolved``.

Inline profile: the API calls ``verify_rectification`` inside the request. Celery: the API rectifies first
and queues ``hazard.verify``; the task appends the verification evidence when done (idempotently).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import cv2
import numpy as np
from pydantic import BaseModel, Field

from serving.bootstrap import Container
from serving.objects import ObjectStoreError
from serving.pipelines.detection import Image, ImageAnalyzer
from serving.pipelines.faces import blurred
from serving.tasks.port import TaskSpec
from vision.detections import Detections
from vision.images import ImageError, ScaledImage, decode_scaled
from vision.matching import Detector, MatchingError, Verification, verify
from vision.matching_visual import render
from vision.onnx_detector import ModelError
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.services.verification import (
    BeforeTarget,
    VerificationSubject,
    append_verification,
    verification_subject,
)

log = logging.getLogger(__name__)

TASK_NAME = "hazard.verify"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    outcome: VerificationOutcome
    reasons: tuple[str, ...]
    side_by_side_key: str | None


class VerifyTask(BaseModel):
    """Queued after a rectification: verify the after photos stored as evidence ``after_seq``."""

    hazard_id: int
    after_seq: int = Field(ge=1)
    after_keys: list[str] = Field(min_length=1)
    by: str


def verify_rectification(
    container: Container, subject: VerificationSubject, after_keys: Sequence[str]
) -> VerificationReport:
    """Check every detection of the hazard (each before photo and its box) against the after photos.

    Resolved only when every region is; otherwise the verdict, scores and side-by-side image are those
    of the worst region (a hazard still there outweighs one that could not be checked)."""
    if not subject.targets:
        return _reinspect("no before photo with a hazard box to compare with")
    detector = _finding_detector(container.analyzer)
    afters = [(key, _decode(container, key, f"after photo {key[:12]}").image) for key in after_keys]
    # The photos are compared as they are; the comparison people look at is drawn from blurred copies.
    shown: Callable[[Image], Image] = (
        partial(blurred, container) if container.settings.privacy.blurs(subject.zone) else _as_is
    )
    checks = [
        _check_target(container, subject.kind, target, afters, detector, shown) for target in subject.targets
    ]
    worst = max(checks, key=lambda check: _SEVERITY[check.outcome.verdict])
    resolved = sum(1 for check in checks if check.outcome.verdict is Verdict.RESOLVED)
    reasons = list(worst.reasons)  # how many regions were fixed travels as numbers (the UI words them)
    if subject.detections_total > len(checks):
        reasons.append(f"only the first {len(checks)} of {subject.detections_total} detections were checked")
    outcome = replace(
        worst.outcome, reasons=tuple(reasons), regions_checked=len(checks), regions_resolved=resolved
    )
    visual = None
    if worst.visual is not None:
        ok, encoded = cv2.imencode(".jpg", worst.visual, [cv2.IMWRITE_JPEG_QUALITY, 85])
        visual = container.objects.put(encoded.tobytes(), content_type="image/jpeg").key if ok else None
    return VerificationReport(outcome, tuple(reasons), visual)


# Which region's verdict stands for the hazard: the one furthest from "fixed".
_SEVERITY = {
    Verdict.RESOLVED: 0,
    Verdict.DIFFERENT_SCENE: 1,
    Verdict.NEEDS_REINSPECTION: 2,
    Verdict.NOT_RESOLVED: 3,
}


@dataclass(frozen=True, slots=True)
class _TargetCheck:
    outcome: VerificationOutcome
    reasons: tuple[str, ...]
    visual: Image | None


def _check_target(
    container: Container,
    kind: str,
    target: BeforeTarget,
    afters: Sequence[tuple[str, Image]],
    detector: Detector | None,
    shown: Callable[[Image], Image],
) -> _TargetCheck:
    """One detection against every after photo; the after photo that registers best decides."""
    try:
        before = _decode(container, target.before_key, "before photo")
    except (ObjectStoreError, ImageError) as exc:
        reason = f"before photo unavailable: {exc}"
        return _TargetCheck(_reinspect_outcome(reason), (reason,), None)
    # The hazard box is in the original's pixels; the photos are compared at the analysis size.
    x1, y1, x2, y2 = target.box
    box = (x1 / before.scale_x, y1 / before.scale_y, x2 / before.scale_x, y2 / before.scale_y)
    best: tuple[Verification, Image] | None = None
    errors: list[str] = []
    for _key, after in afters:
        try:
            result = verify(before.image, after, box, detector=detector, hazard_classes=frozenset({kind}))
        except MatchingError as exc:
            errors.append(str(exc))
            continue
        if best is None or _same_scene(result) > _same_scene(best[0]):
            best = (result, after)
    if best is None:
        reason = "; ".join(errors) or "no after photo"
        return _TargetCheck(_reinspect_outcome(reason), (reason,), None)
    result, after = best
    visual = render(shown(before.image), shown(after), box, result)
    return _TargetCheck(to_outcome(result), result.reasons, visual)


def _as_is(image: Image) -> Image:
    return image


def _decode(container: Container, key: str, what: str) -> ScaledImage:
    settings = container.settings.photos
    data = container.objects.get(key)
    with container.decodes.hold(what):
        return decode_scaled(
            data, source=what, max_pixels=settings.max_pixels, max_side=settings.analysis_max_side
        )


def to_outcome(result: Verification) -> VerificationOutcome:
    """``hazard_score``: how much of the hazard is left in the region, the larger of the detector's
    confidence there and the region's similarity to before (1 - change); None when the region was not
    checked (weak match, different scene)."""
    reg, region = result.registration, result.region
    hazard_score = None
    if region is not None:
        left = max(region.hazard_confidence_after or 0.0, 1.0 - region.change)
        hazard_score = float(min(1.0, max(0.0, left)))
    return VerificationOutcome(
        Verdict(result.verdict.value),
        float(min(1.0, max(0.0, reg.same_scene))) if reg else 0.0,
        reg.inliers if reg else 0,
        hazard_score,
        tuple(result.reasons),
    )


def _same_scene(result: Verification) -> float:
    return result.registration.same_scene if result.registration else -1.0


def _reinspect(reason: str) -> VerificationReport:
    return VerificationReport(_reinspect_outcome(reason), (reason,), None)


def _reinspect_outcome(reason: str) -> VerificationOutcome:
    return VerificationOutcome(Verdict.NEEDS_REINSPECTION, 0.0, reasons=(reason,))


def _finding_detector(analyzer: ImageAnalyzer) -> Detector | None:
    """The shared analyzer as a matching ``Detector`` whose classes are finding kinds (``ppe.no_helmet``,
    ``leak.drip``): the region check then asks whether the hazard's own kind is still found there."""
    if not analyzer.installed():
        return None

    def detect(image: Image) -> Detections:
        try:
            findings = analyzer.analyze(image).findings
        except ModelError:
            log.warning("detector re-check skipped: no model can run")
            return Detections.empty()
        kinds = tuple(sorted({f.kind for f in findings}))
        return Detections(
            np.array([f.box for f in findings], np.float32).reshape(-1, 4),
            np.array([f.confidence for f in findings], np.float32),
            np.array([kinds.index(f.kind) for f in findings], np.int64),
            kinds,
        )

    return detect


def run_verification_task(container: Container, task: VerifyTask) -> None:
    """The Celery path: verify, store the image, append the evidence (a redelivery appends nothing)."""
    subject = verification_subject(container.workflow, task.hazard_id)
    report = verify_rectification(container, subject, task.after_keys)
    keys = (report.side_by_side_key,) if report.side_by_side_key else ()
    append_verification(container.workflow, task.hazard_id, task.after_seq, report.outcome, keys, task.by)


def register_tasks(container: Container) -> None:
    """Register this pipeline's background tasks on ``container.task_registry``."""
    container.task_registry.register(
        TaskSpec(TASK_NAME, VerifyTask, lambda task: run_verification_task(container, task))
    )
