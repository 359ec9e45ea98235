"""``hazardeye inspect IMAGE...``: run the shipped detectors on photos and print findings."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console
from rich.table import Table

from serving.bootstrap import build_model_registry
from serving.settings import load_settings
from vision.annotate import annotate
from vision.detections import Detections, Finding
from vision.images import ImageError, read_image
from vision.onnx_detector import ModelError
from vision.rules import findings_for


@dataclass(frozen=True, slots=True)
class Inspection:
    image: Path
    model: str
    detections: Detections
    findings: list[Finding]

    def to_json(self) -> dict[str, object]:
        """The contract of DESIGN.md: one object per image, boxes in input-image pixels."""
        d = self.detections
        return {
            "image": str(self.image),
            "model": self.model,
            "detections": [
                {"label": d.label(i), "confidence": round(float(d.confidences[i]), 4), "box": _box(d.box(i))}
                for i in range(len(d))
            ],
            "findings": [
                {"kind": f.kind, "confidence": round(f.confidence, 4), "box": _box(f.box)}
                for f in self.findings
            ],
        }


def _box(box: tuple[float, float, float, float]) -> list[float]:
    return [round(v, 1) for v in box]


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    images: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, WebP, TIFF, ...)")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name in the models folder")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per image on stdout")] = False,
    save_annotated: Annotated[
        Path | None, typer.Option("--save-annotated", help="Write images with boxes drawn into this folder")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=64)] = 8,
) -> None:
    """Detect PPE violations / leaks in images. Bad images are reported on stderr and skipped;
    the exit code is 1 if any image failed, 2 if the model cannot be loaded."""
    settings = load_settings()
    registry = build_model_registry(settings.vision, batch_size=batch_size)
    try:
        entry, detector = registry.detector(model or settings.vision.ppe_model)
    except ModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    failures = 0
    loaded: list[tuple[Path, npt.NDArray[np.uint8]]] = []
    for path in images:
        try:
            loaded.append((path, read_image(path, max_pixels=settings.vision.max_image_pixels)))
        except ImageError as exc:
            failures += 1
            typer.echo(f"error: {exc}", err=True)

    results = [
        Inspection(path, entry.ref, detections, findings_for(detections))
        for (path, _), detections in zip(
            loaded, detector.detect_many([image for _, image in loaded]), strict=True
        )
    ]
    if save_annotated is not None:
        save_annotated.mkdir(parents=True, exist_ok=True)
        for (path, image), result in zip(loaded, results, strict=True):
            target = save_annotated / f"{path.stem}.annotated.jpg"
            cv2.imwrite(str(target), annotate(image, result.detections, result.findings))

    if as_json:
        for result in results:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print_table(results)
    if failures:
        raise typer.Exit(1)


def _print_table(results: list[Inspection]) -> None:
    # Images are named relative to the folder they share (in the title), and a long name folds onto
    # the next line instead of being cut: two images of one folder must stay tell-apart-able.
    folder = _common_folder([result.image for result in results])
    title = "hazardeye inspect" + (f" — {folder}" if folder is not None else "")
    names = [str(r.image.relative_to(folder)) if folder is not None else str(r.image) for r in results]
    table = Table(title=title, show_lines=False)
    table.add_column("image", overflow="fold", min_width=min(max(map(len, names), default=5), 48))
    for column in ("model", "detections", "findings"):
        table.add_column(column)
    for name, result in zip(names, results, strict=True):
        d = result.detections
        counts: dict[str, int] = {}
        for i in range(len(d)):
            counts[d.label(i)] = counts.get(d.label(i), 0) + 1
        table.add_row(
            name,
            result.model,
            "\n".join(f"{n}×{label}" for label, n in sorted(counts.items())) or "-",
            "\n".join(f"[red]{f.kind}[/red] {f.confidence:.2f}" for f in result.findings)
            or "[green]none[/green]",
        )
    Console().print(table)


def _common_folder(images: list[Path]) -> Path | None:
    """The deepest folder holding every image, when there is one to factor out."""
    folders = {image.parent for image in images}
    if not folders or folders == {Path()}:
        return None
    try:
        common = Path(os.path.commonpath([str(f) for f in folders]))
    except ValueError:  # absolute and relative paths mixed
        return None
    return common if str(common) not in ("", ".") else None
