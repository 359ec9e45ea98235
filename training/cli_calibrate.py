"""``hazardeye calibrate-clean``: raise a shipped model's thresholds until it is quiet on clean real
pictures (``training.clean_calibration``), checked on held-out clean pictures; ``--write`` puts them on
the card (and on the INT8 card beside it, when there is one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track

console = Console()
_FLOOR = 0.05  # scores below this are not worth a threshold
_SUFFIXES = (".jpg", ".jpeg", ".png")
_MAX_PIXELS = 64_000_000


def _pictures(folders: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise typer.BadParameter(f"{folder} is not a folder of pictures")
        found += sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
    return found


def _describe(folders: Sequence[Path]) -> str:
    """Folders by their last three parts (``hardhat/valid/images``): where they lie is this machine's."""
    return " + ".join("/".join(folder.resolve().parts[-3:]) for folder in folders)


def register(app: typer.Typer) -> None:
    @app.command("calibrate-clean")
    def calibrate_clean_cmd(
        version_dir: Path = typer.Argument(..., help="an installed version, e.g. models/leak/1"),
        clean: list[Path] = typer.Option(
            ..., "--clean", help="folder of clean real pictures to calibrate on"
        ),
        held_out: list[Path] = typer.Option(
            ..., "--held-out", help="folder of other clean real pictures to check the thresholds on"
        ),
        classes: str = typer.Option(
            ..., help="classes to calibrate (comma-separated), e.g. leak,stain,corrosion"
        ),
        margin: float = typer.Option(0.02, min=0.0, max=0.5, help="added to the highest clean score"),
        write: bool = typer.Option(False, "--write", help="write the thresholds to the card(s)"),
    ) -> None:
        """Thresholds from the highest scores on --clean pictures; report what --held-out ones still flag."""
        from training.clean_calibration import PictureScores, calibrate
        from vision.images import ImageError, read_image
        from vision.model_card import CARD_FILE, INT8_CARD_FILE, read_card, write_card
        from vision.registry import ModelEntry, load_detector

        card = read_card(version_dir / CARD_FILE)
        names = [n.strip() for n in classes.split(",") if n.strip()]
        unknown = [n for n in names if n not in card.classes]
        if not names or unknown:
            raise typer.BadParameter(f"classes must be among the model's {list(card.classes)}, got {names}")
        entry = ModelEntry(card.name, card.version, version_dir, card, current=False)
        detector = load_detector(entry, floor=_FLOOR)

        def scores(folder_list: Sequence[Path], label: str) -> list[PictureScores]:
            out = []
            for path in track(_pictures(folder_list), description=label, console=console):
                try:
                    image = read_image(path, max_pixels=_MAX_PIXELS)
                except ImageError as exc:
                    console.print(f"[yellow]skipped: {exc}[/yellow]")
                    continue
                found = detector.detect(image)
                best: dict[str, float] = {}
                for i in range(len(found)):
                    label_i = found.label(i)
                    best[label_i] = max(best.get(label_i, 0.0), float(found.confidences[i]))
                out.append(PictureScores(path.name, best))
            return out

        try:
            result = calibrate(
                scores(clean, "calibration"), scores(held_out, "held out"), names, card.thresholds, margin
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        for name in names:
            before = card.thresholds.get(name, card.default_threshold)
            console.print(f"{name}: {before:.3f} → {result.thresholds[name]:.3f}")
        console.print(
            f"held out: {len(result.held_out_flagged)} of {result.held_out_pictures} clean pictures still "
            f"flagged {list(result.held_out_flagged)[:10]}"
        )
        if not write:
            return
        dataset = f"clean real pictures: {_describe(clean)} (held out: {_describe(held_out)})"
        point = result.operating_point(dataset, "/".join(names))
        for file in (CARD_FILE, INT8_CARD_FILE):
            path = version_dir / file
            if path.exists():
                old = read_card(path)
                thresholds = {**old.thresholds, **result.thresholds}
                write_card(old.model_copy(update={"thresholds": thresholds, "operating_point": point}), path)
                console.print(f"written → {path}")
