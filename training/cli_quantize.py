"""``hazardeye quantize``: add a gated INT8 variant to an installed model version (``promote`` does the
same for every new version; this is for versions promoted before it did, or a re-calibration)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    @app.command("quantize")
    def quantize_cmd(
        version_dir: Path = typer.Argument(..., help="an installed version, e.g. models/ppe/2"),
        calib: list[Path] = typer.Option(
            ..., "--calib", help="training images to calibrate on (repeatable; never the held-out ones)"
        ),
        calib_count: int = typer.Option(80, help="calibration images, spread evenly over the --calib dirs"),
        data: Path = typer.Option(..., "--data", help="held-out data.yaml the gate evaluates on"),
        split: str = typer.Option("val"),
        also: list[str] = typer.Option(
            [], "--also", help="extra DATA.yaml:SPLIT evaluations for the card (not gated)"
        ),
        max_drop: float = typer.Option(0.01, help="INT8 kept if each class's AP50 is within this of FP32"),
        out: Path = typer.Option(Path("runs/quantize"), help="the quantised file and evaluation reports"),
        threads: int | None = typer.Option(None, help="onnxruntime intra-op threads"),
    ) -> None:
        """Quantise VERSION_DIR's model to INT8; install model.int8.onnx + card.int8.json beside it only if
        AP50 of each class --data labels is within --max-drop of FP32 (exit 1 and nothing written if not)."""
        from training.cli_model import _print_eval
        from training.export import calibration_images
        from training.int8_variant import EvalSet, build_int8_variant, describe_calibration
        from training.promote import write_int8_variant
        from vision.model_card import CARD_FILE, MODEL_FILE, read_card, sha256_of

        card = read_card(version_dir / CARD_FILE)
        fp32 = version_dir / MODEL_FILE
        if sha256_of(fp32) != card.sha256:
            raise typer.BadParameter(f"{fp32} does not match its card's sha256")
        calibration = describe_calibration(calib, calibration_images(calib, calib_count))
        others = [EvalSet(Path(d), s, d) for d, _, s in (spec.rpartition(":") for spec in also)]
        try:
            built = build_int8_variant(
                fp32,
                card,
                calibration,
                EvalSet(data, split, str(data)),
                others,
                work_dir=out / card.name / str(card.version),
                max_drop=max_drop,
                threads=threads,
            )
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        for fp32_report, int8_report in zip(built.fp32, built.int8, strict=False):
            _print_eval(fp32_report)
            _print_eval(int8_report)
        if built.variant is None:
            console.print(f"[yellow]{built.outcome.message}; nothing installed[/yellow]")
            raise typer.Exit(1)
        written = write_int8_variant(version_dir, built.variant, card)
        console.print(
            f"[green]{built.outcome.message}[/green]\ninstalled → {version_dir} ({written.sha256[:12]}…)"
        )
