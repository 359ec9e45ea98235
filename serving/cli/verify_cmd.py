"""``hazardeye verify BEFORE AFTER --box x1,y1,x2,y2``: is the hazard gone from the after photo?

Exit codes: 0 resolved, 1 not resolved / different scene / needs re-inspection, 2 bad input.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import cv2
import typer

from serving.bootstrap import build_model_registry
from serving.settings import Settings, load_settings
from vision.detections import Box
from vision.images import ImageError, read_image
from vision.matching import Detector, MatchingError, Verdict, Verification, hazard_classes_for, verify
from vision.matching_visual import render
from vision.onnx_detector import ModelError

EXIT_RESOLVED, EXIT_NOT_RESOLVED, EXIT_BAD_INPUT = 0, 1, 2


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_cmd)


def parse_box(text: str) -> Box:
    parts = text.split(",")
    try:
        x1, y1, x2, y2 = (float(p) for p in parts)
    except ValueError as exc:
        raise typer.BadParameter(f"expected x1,y1,x2,y2 in pixels, got {text!r}") from exc
    return (x1, y1, x2, y2)


def report(result: Verification, timings_ms: dict[str, float], model: str | None = None) -> dict[str, object]:
    reg, region = result.registration, result.region
    return {
        "verdict": result.verdict.value,
        "model": model,
        "reasons": list(result.reasons),
        "scores": {
            "same_scene": round(reg.same_scene, 4) if reg else None,
            "inlier_ratio": round(reg.inlier_ratio, 4) if reg else None,
            "change": round(region.change, 4) if region else None,
            "diff_ratio": round(region.diff_ratio, 4) if region else None,
            "box_similarity": round(region.box_similarity, 4) if region else None,
            "ring_similarity": round(region.ring_similarity, 4) if region else None,
            "visible_fraction": round(region.visible_fraction, 4) if region else None,
            "hazard_confidence_after": region.hazard_confidence_after if region else None,
            "hazard_confidence_before": region.hazard_confidence_before if region else None,
        },
        # A model fitted to a different scene is noise: do not hand it out as if it meant something.
        "homography": reg.homography.round(8).tolist()
        if reg and reg.homography is not None and result.verdict is not Verdict.DIFFERENT_SCENE
        else None,
        "inliers": reg.inliers if reg else 0,
        "method": reg.method if reg else None,
        "refined_points": reg.refined_points if reg else 0,
        "warped_box": [list(p) for p in region.warped_polygon] if region else None,
        "timings_ms": {name: round(ms, 1) for name, ms in timings_ms.items()},
    }


def load_detector(settings: Settings, name: str) -> tuple[str, Detector, frozenset[str]]:
    """The named model from the registry, as the re-check detector, with the classes that mean hazard."""
    registry = build_model_registry(settings.vision, batch_size=2)
    entry, detector = registry.detector(name)
    classes = hazard_classes_for(entry.card.classes)
    if not classes:
        raise ModelError(
            f"model {entry.ref} detects no hazard class (classes: {', '.join(entry.card.classes)})"
        )
    return entry.ref, detector.detect, classes


def verify_cmd(
    before: Annotated[Path, typer.Argument(help="Photo taken when the hazard was found")],
    after: Annotated[Path, typer.Argument(help="Photo taken after rectification")],
    box: Annotated[str, typer.Option("--box", help="Hazard box in BEFORE pixels: x1,y1,x2,y2")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the side-by-side evidence image here")
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="Detector for the re-check, by name in the models folder (default: PPE)"
        ),
    ] = "",
    no_detector: Annotated[
        bool, typer.Option("--no-detector", help="Decide on registration and local change only")
    ] = False,
) -> None:
    """Check that the hazard inside --box is gone from the AFTER photo."""
    hazard_box = parse_box(box)
    settings = load_settings()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model_ref: str | None = None
    try:
        detector: Detector | None = None
        hazard_classes: frozenset[str] = frozenset()
        if not no_detector:
            model_ref, detector, hazard_classes = load_detector(settings, model or settings.vision.ppe_model)
            timings["model"] = (time.perf_counter() - start) * 1e3
        t_read = time.perf_counter()
        before_image = read_image(before, max_pixels=settings.photos.max_pixels)
        after_image = read_image(after, max_pixels=settings.photos.max_pixels)
        timings["read"] = (time.perf_counter() - t_read) * 1e3
        result = verify(
            before_image, after_image, hazard_box, detector=detector, hazard_classes=hazard_classes
        )
    except (ImageError, MatchingError, ModelError) as exc:
        if as_json:
            typer.echo(json.dumps({"verdict": None, "error": str(exc)}))
        else:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    timings.update(dict(result.timings_ms))
    timings["total"] = (time.perf_counter() - start) * 1e3
    if out is not None:
        cv2.imwrite(str(out), render(before_image, after_image, hazard_box, result))
    if as_json:
        typer.echo(json.dumps(report(result, timings, model_ref)))
    else:
        typer.echo(f"{result.verdict.value}: " + "; ".join(result.reasons))
    raise typer.Exit(EXIT_RESOLVED if result.verdict is Verdict.RESOLVED else EXIT_NOT_RESOLVED)
