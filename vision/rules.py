"""The rules layer: one call turns a model's detections into findings, whatever the model detects."""

from __future__ import annotations

from vision.detections import Detections, Finding
from vision.leak import LEAK_CLASSES, leak_findings
from vision.ppe import ZoneRequirements, ppe_findings

PPE_CLASSES = ("head", "helmet", "person", "vest", "no_vest")


def findings_for(detections: Detections, requirements: ZoneRequirements | None = None) -> list[Finding]:
    """Apply every rule set whose classes the model provides (PPE, leaks), most confident first."""
    names = set(detections.class_names)
    # Not mutated: "|" would be equivalent, each rule set finds nothing among the other's classes.
    wants_ppe = bool(names & set(PPE_CLASSES))  # pragma: no mutate
    wants_leaks = bool(names & set(LEAK_CLASSES))  # pragma: no mutate
    ppe = ppe_findings(detections, requirements) if wants_ppe else []
    leaks = leak_findings(detections) if wants_leaks else []
    return sorted([*ppe, *leaks], key=lambda f: -f.confidence)
