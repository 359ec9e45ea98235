"""The rules layer: one call turns a model's detections into findings, whatever the model detects."""

from __future__ import annotations

from vision.detections import Detections, Finding
from vision.leak import leak_findings
from vision.ppe import ZoneRequirements, ppe_findings


def findings_for(detections: Detections, requirements: ZoneRequirements | None = None) -> list[Finding]:
    """Apply every rule set (PPE, leaks), most confident first. Each finds nothing among classes that are
    not its own, so a model's detections go through all of them, whatever the model detects."""
    findings = [*ppe_findings(detections, requirements), *leak_findings(detections)]
    return sorted(findings, key=lambda f: -f.confidence)
