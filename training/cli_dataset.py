"""``hazardeye dataset check|split|merge|synth``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=False)


def _parse_remap(text: str) -> dict[str, str]:
    remap: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        old, _, new = pair.partition("=")
        remap[old.strip()] = new.strip()
    return remap


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        data: Path = typer.Argument(..., help="data.yaml of a YOLO dataset"),
        split: list[str] = typer.Option(["train", "val"], "--split", help="splits to check (repeatable)"),
        show: int = typer.Option(20, help="issues to list per split"),
    ) -> None:
        """Validate a dataset: missing labels, bad boxes, unknown classes, duplicates, corrupt images."""
        from training.yolo_dataset import DatasetError, load_split

        failed = False
        for s in split:
            try:
                _, report = load_split(data, s)
            except DatasetError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(2) from exc
            console.print(
                f"[bold]{s}[/bold]: {report.usable_images}/{report.images} usable images, boxes per class "
                + ", ".join(f"{n}={c}" for n, c in zip(report.names, report.boxes_per_class, strict=True))
                + f"; {report.errors} errors, {len(report.issues) - report.errors} warnings"
            )
            table = Table("severity", "kind", "file", "line", "message")
            for issue in report.issues[:show]:
                table.add_row(
                    issue.severity, issue.kind, str(issue.path), str(issue.line or ""), issue.message
                )
            if report.issues:
                console.print(table)
            failed |= not report.ok
        raise typer.Exit(1 if failed else 0)

    @app.command("split")
    def split(
        images: Path = typer.Argument(..., help="images directory (labels in the sibling 'labels' dir)"),
        out: Path = typer.Argument(..., help="output directory for train/val/test lists and data.yaml"),
        names: str = typer.Option(..., help="comma-separated class names, in id order"),
        val: float = typer.Option(0.2, help="fraction for val"),
        test: float = typer.Option(0.0, help="fraction for test"),
        seed: int = typer.Option(0, help="hash seed; same seed + same file names = same split"),
    ) -> None:
        """Deterministic split by hash(seed, file name): adding images never moves existing ones."""
        from training.split import split_paths, write_split
        from training.yolo_dataset import list_images

        result = split_paths(list_images(images), val=val, test=test, seed=seed)
        data = write_split(result, tuple(n.strip() for n in names.split(",")), out)
        console.print(f"train {len(result.train)}, val {len(result.val)}, test {len(result.test)} → {data}")

    @app.command("merge")
    def merge_cmd(
        out: Path = typer.Argument(..., help="output dataset directory"),
        source: list[str] = typer.Option(
            ...,
            "--source",
            help="DATA.yaml:SPLIT:PREFIX[:old=new,old2=,...] ('old=' drops a class); repeatable",
        ),
        names: str = typer.Option(
            "", help="target class names in id order (default: remapped names, first seen)"
        ),
        split: str = typer.Option("train", help="split name to write"),
    ) -> None:
        """Merge datasets with class remapping into one YOLO dataset."""
        from training.merge import MergeSource, merge
        from training.yolo_dataset import load_split

        sources = []
        for spec in source:
            parts = spec.split(":", 3)
            if len(parts) < 3:
                raise typer.BadParameter(f"{spec!r}: expected DATA.yaml:SPLIT:PREFIX[:remap]")
            ds, report = load_split(Path(parts[0]), parts[1])
            if report.errors:
                console.print(
                    f"[yellow]{parts[0]} [{parts[1]}]: {report.errors} errors; bad lines skipped[/yellow]"
                )
            sources.append(MergeSource(ds, parts[2], _parse_remap(parts[3] if len(parts) == 4 else "")))
        target = tuple(n.strip() for n in names.split(",") if n.strip()) or None
        result = merge(sources, out, split, target)
        console.print(
            f"{result.images} images, {result.boxes} boxes ({result.dropped_boxes} dropped); "
            f"classes {result.names}"
        )

    @app.command("synth")
    def synth(
        out: Path = typer.Argument(..., help="output dataset directory"),
        count: int = typer.Option(2000, help="images to generate"),
        seed: int = typer.Option(1, help="generator seed (use a different seed for held-out sets)"),
        size: int = typer.Option(320, help="square image size in pixels"),
        split: str = typer.Option("train", help="split name to write"),
        backgrounds: list[Path] = typer.Option([], "--backgrounds", help="directories of background photos"),
        max_backgrounds: int = typer.Option(400, help="backgrounds loaded (deterministic pick)"),
        corrosion: Path | None = typer.Option(
            None, help="corrosion dataset root (images/, labels/, splits.txt)"
        ),
        corrosion_splits: str = typer.Option(
            "train", help="original corrosion splits to use, comma-separated"
        ),
    ) -> None:
        """Generate synthetic leak / stain / corrosion scenes with YOLO labels (deterministic per seed)."""
        from training.synth.compose import CLASS_NAMES, load_backgrounds, write_dataset
        from training.synth.corrosion import load_corrosion

        bgs = load_backgrounds(backgrounds, max_backgrounds, seed=seed)
        cor = load_corrosion(corrosion, tuple(corrosion_splits.split(","))) if corrosion else []
        n = write_dataset(out, split, seed, count, size, bgs, cor)
        data = out / "data.yaml"
        if not data.exists():
            data.write_text(
                f"path: {out.resolve()}\ntrain: images/{split}\nval: images/{split}\nnames:\n"
                + "".join(f"  {i}: {c}\n" for i, c in enumerate(CLASS_NAMES))
            )
        console.print(
            f"{count} images, {n} boxes → {out} ({len(bgs)} backgrounds, {len(cor)} corrosion photos)"
        )
