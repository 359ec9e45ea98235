"""``hazardeye train-campaign NAME``: one sitting of a resumable, staged training campaign."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    @app.command("train-campaign")
    def train_campaign_cmd(
        campaign: str = typer.Argument(
            ..., help="campaign name (training/campaigns/NAME.yaml) or a spec path"
        ),
        hours: float = typer.Option(
            2.0, help="wall budget of this sitting; stops after the epoch that would overrun"
        ),
        shared: Path = typer.Option(Path("../shared/datasets"), help="folder holding the source datasets"),
        work: Path = typer.Option(
            Path("runs/campaign"), help="scratch folder: built dataset, ultralytics runs"
        ),
        repo: Path = typer.Option(Path(), help="repository root holding the campaign state"),
        device: str = typer.Option("auto", help="auto = cuda:0 if available else cpu"),
        workers: int = typer.Option(2, help="dataloader workers"),
        status: bool = typer.Option(False, "--status", help="print the campaign's progress and exit"),
    ) -> None:
        """Continue a training campaign where the last sitting stopped (state lives in the repository)."""
        from training.campaign import CampaignError, CampaignProgress, load_progress, load_spec, run_sitting
        from training.offline import auto_device

        try:
            spec = load_spec(campaign)
            progress = load_progress(spec, repo)
        except CampaignError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc

        def show(p: CampaignProgress) -> None:
            where = "finished" if p.finished(spec) else f"stage {p.stage + 1}/{len(spec.stages)}"
            stage = spec.stages[min(p.stage, len(spec.stages) - 1)]
            console.print(
                f"{spec.name}: {where} ({p.stage_epochs_done}/{stage.epochs} epochs at {stage.imgsz} px), "
                f"{p.epochs_total} epochs and {p.hours_total:.2f} h in all, {len(p.sittings)} sittings"
            )

        show(progress)
        if status:
            return
        try:
            result = run_sitting(
                spec,
                repo=repo,
                shared=shared,
                work=work / spec.name,
                hours=hours,
                device=auto_device(device),
                workers=workers,
                on_epoch=show,
            )
        except CampaignError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        console.print(
            f"sitting: {result.epochs} epochs in {result.hours:.2f} h; state → {result.checkpoint}"
            + (" (stage finished: export it)" if result.stage_finished else "")
        )
