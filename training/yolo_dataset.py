"""YOLO-format datasets: load, validate and describe problems as a typed report instead of crashing.

Layouts accepted: a ``data.yaml`` (``path`` + ``train``/``val``/``test`` dirs or ``.txt`` lists, ``names``)
or a bare images directory whose labels sit in the sibling ``labels`` directory (``.../images/x.jpg`` →
``.../labels/x.txt``), as ultralytics expects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from vision.images import ImageError, read_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
_MAX_PIXELS = 50_000_000
_EPS = 1e-6  # label writers round; 1.0000001 is not a broken box


class DatasetError(ValueError):
    """A dataset that cannot be used at all (missing yaml, no names, unknown split)."""


class Severity(StrEnum):
    ERROR = "error"  # the line/image is excluded from the loaded dataset
    WARNING = "warning"  # kept, but probably not what the author meant


class IssueKind(StrEnum):
    MISSING_LABEL = "missing_label"
    MALFORMED_LINE = "malformed_line"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CLASS = "unknown_class"
    DUPLICATE_IMAGE = "duplicate_image"
    CORRUPT_IMAGE = "corrupt_image"
    EMPTY = "empty"


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    severity: Severity
    path: Path
    message: str
    line: int | None = None


@dataclass(frozen=True)
class LabelBox:
    """One YOLO label: class id and normalised centre x/y, width, height."""

    cls: int
    cx: float
    cy: float
    w: float
    h: float

    def xyxy(self, width: int, height: int) -> tuple[float, float, float, float]:
        return (
            (self.cx - self.w / 2) * width,
            (self.cy - self.h / 2) * height,
            (self.cx + self.w / 2) * width,
            (self.cy + self.h / 2) * height,
        )

    def line(self) -> str:
        return f"{self.cls} {self.cx:.6f} {self.cy:.6f} {self.w:.6f} {self.h:.6f}"


@dataclass(frozen=True)
class DatasetItem:
    image: Path
    boxes: tuple[LabelBox, ...]
    labelled: bool  # False: no label file (a background image for ultralytics)


@dataclass(frozen=True)
class YoloDataset:
    names: tuple[str, ...]
    items: tuple[DatasetItem, ...]


@dataclass(frozen=True)
class DatasetReport:
    source: Path
    names: tuple[str, ...]
    images: int
    usable_images: int
    boxes_per_class: tuple[int, ...]
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.usable_images > 0

    def count(self, kind: IssueKind) -> int:
        return sum(1 for i in self.issues if i.kind is kind)


def label_path_for(image: Path) -> Path:
    """ultralytics' rule: the last ``images`` path component becomes ``labels``, suffix ``.txt``."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def read_names(data_yaml: Path) -> tuple[str, ...]:
    spec = _read_yaml(data_yaml)
    return _names(spec, data_yaml)


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read dataset yaml ({exc})") from exc
    if not isinstance(spec, dict):
        raise DatasetError(f"{path}: dataset yaml is not a mapping")
    return {str(k): v for k, v in spec.items()}


def _names(spec: dict[str, object], source: Path) -> tuple[str, ...]:
    names = spec.get("names")
    if isinstance(names, dict):
        keys = sorted(int(k) for k in names)
        if keys != list(range(len(keys))):
            raise DatasetError(f"{source}: class ids in 'names' must be 0..n-1, got {keys}")
        return tuple(str(names[k]) for k in keys)
    if isinstance(names, list) and names:
        return tuple(str(n) for n in names)
    raise DatasetError(f"{source}: no class 'names' in dataset yaml")


def split_images(data_yaml: Path, split: str) -> list[Path]:
    """Image files of one split (``train``/``val``/``test``) of a ``data.yaml`` dataset."""
    spec = _read_yaml(data_yaml)
    entry = spec.get(split)
    if entry is None:
        raise DatasetError(
            f"{data_yaml}: no '{split}' split (has: {', '.join(k for k in spec if k != 'names')})"
        )
    base = Path(str(spec.get("path") or data_yaml.parent))
    if not base.is_absolute():
        base = data_yaml.parent / base
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    for e in entries:
        p = Path(str(e))
        p = p if p.is_absolute() else base / p
        images.extend(list_images(p))
    return images


def list_images(path: Path) -> list[Path]:
    """Images under a directory (recursive) or listed in a ``.txt`` file (one path per line)."""
    if path.is_file() and path.suffix == ".txt":
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        return [Path(ln) if Path(ln).is_absolute() else path.parent / ln for ln in lines]
    if not path.is_dir():
        raise DatasetError(f"{path}: images directory or list does not exist")
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def parse_labels(label: Path, n_classes: int, issues: list[Issue]) -> tuple[LabelBox, ...]:
    """Parse a label file; bad lines become issues and are dropped. Polygons are reduced to boxes."""
    boxes: list[LabelBox] = []
    for no, raw in enumerate(label.read_text(errors="replace").splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        try:
            cls_f = float(parts[0])
            vals = [float(v) for v in parts[1:]]
        except ValueError:
            issues.append(Issue(IssueKind.MALFORMED_LINE, Severity.ERROR, label, f"not numbers: {raw!r}", no))
            continue
        if len(vals) == 4:
            cx, cy, w, h = vals
        elif len(vals) >= 6 and len(vals) % 2 == 0:  # segmentation polygon → enclosing box
            xs, ys = vals[0::2], vals[1::2]
            cx, cy, w, h = (
                (min(xs) + max(xs)) / 2,
                (min(ys) + max(ys)) / 2,
                max(xs) - min(xs),
                max(ys) - min(ys),
            )
        else:
            issues.append(Issue(IssueKind.MALFORMED_LINE, Severity.ERROR, label, f"{len(parts)} fields", no))
            continue
        cls = int(cls_f)
        if cls != cls_f or not 0 <= cls < n_classes:
            issues.append(
                Issue(
                    IssueKind.UNKNOWN_CLASS,
                    Severity.ERROR,
                    label,
                    f"class {parts[0]} not in 0..{n_classes - 1}",
                    no,
                )
            )
            continue
        x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        if w <= 0 or h <= 0 or min(x1, y1) < -_EPS or max(x2, y2) > 1 + _EPS:
            issues.append(
                Issue(
                    IssueKind.OUT_OF_RANGE,
                    Severity.ERROR,
                    label,
                    f"box outside the image: {raw.strip()!r}",
                    no,
                )
            )
            continue
        boxes.append(LabelBox(cls, cx, cy, w, h))
    return tuple(boxes)


def load_images(
    images: list[Path], names: tuple[str, ...], source: Path, *, check_images: bool = True
) -> tuple[YoloDataset, DatasetReport]:
    """Load and validate a list of images; returns the usable dataset and the full report."""
    issues: list[Issue] = []
    items: list[DatasetItem] = []
    seen: dict[str, Path] = {}
    for image in images:
        try:
            digest = hashlib.sha256(image.read_bytes()).hexdigest()
        except OSError as exc:
            issues.append(
                Issue(IssueKind.CORRUPT_IMAGE, Severity.ERROR, image, f"cannot read ({exc.strerror})")
            )
            continue
        if digest in seen:
            issues.append(
                Issue(
                    IssueKind.DUPLICATE_IMAGE,
                    Severity.WARNING,
                    image,
                    f"same bytes as {seen[digest]}; skipped",
                )
            )
            continue
        seen[digest] = image
        if check_images:
            try:
                read_image(image, max_pixels=_MAX_PIXELS)
            except ImageError as exc:
                issues.append(Issue(IssueKind.CORRUPT_IMAGE, Severity.ERROR, image, str(exc)))
                continue
        label = label_path_for(image)
        if not label.exists():
            issues.append(Issue(IssueKind.MISSING_LABEL, Severity.WARNING, image, f"no label file {label}"))
            items.append(DatasetItem(image, (), labelled=False))
            continue
        items.append(DatasetItem(image, parse_labels(label, len(names), issues), labelled=True))
    if not items:
        issues.append(Issue(IssueKind.EMPTY, Severity.ERROR, source, "no usable images"))
    per_class = [0] * len(names)
    for item in items:
        for b in item.boxes:
            per_class[b.cls] += 1
    report = DatasetReport(source, names, len(images), len(items), tuple(per_class), tuple(issues))
    return YoloDataset(names, tuple(items)), report


def load_split(
    data_yaml: Path, split: str, *, check_images: bool = True
) -> tuple[YoloDataset, DatasetReport]:
    """Load one split of a ``data.yaml`` dataset."""
    names = read_names(data_yaml)  # first: a yaml without names is the more basic problem
    return load_images(split_images(data_yaml, split), names, data_yaml, check_images=check_images)
