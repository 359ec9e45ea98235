"""Leak rules: the leak model's ``leak``, ``stain`` and ``corrosion`` boxes → ``leak.*`` findings."""

from __future__ import annotations

from vision.detections import Detections, Finding

LEAK_CLASSES = ("leak", "stain", "corrosion")


def leak_findings(detections: Detections) -> list[Finding]:
    return [
        Finding(f"leak.{detections.label(i)}", float(detections.confidences[i]), detections.box(i))
        for i in range(len(detections))
        if detections.label(i) in LEAK_CLASSES
    ]
