"""The rules layer: one call turns a model's detections into findings, whatever the model detects."""

from __future__ import annotations

from vision.detections import Detections, Finding
from vision.leak import LEAK_CLASSES, leak_findings
from vision.ppe import ZoneRequirements, ppe_findings

PPE_CLASSES = ("head", "helmet", "person", "vest", "no_vest")


def findings_for(detections: Detections, requirements: ZoneRequirements | None = None) -> list[Finding]:
    """Apply every rule set whose classes the model provides (PPE, leaks), most confident first."""
    names = set(detections.class_names)
    findings: list[Finding] = []
    # Not mutated: "|" would be equivalent, the PPE rules find nothing among other classes.
    if names & set(PPE_CLASSES):  # pragma: no mutate
        findings += ppe_findings(detections, requirements)
    if names & set(LEAK_CLASSES):
        findings += leak_findings(detections)
    return sorted(findings, key=lambda f: -f.confidence)
