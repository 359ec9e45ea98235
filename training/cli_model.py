"""``hazardeye train|export|evaluate|promote``: the model lifecycle from a dataset to ``models/``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the commands import their modules lazily (a fast --help)
    from training.evaluate import EvaluationReport
    from training.int8_variant import EvalSet
    from training.promote import Int8Variant
    from vision.model_card import ModelCard

console = Console()


def _print_eval(report: Any) -> None:
    m = report.metrics
    table = Table(
        "class", "gt", "AP50", "AP50-95", "P@thr", "R@thr", "thr", title=f"{report.model} on {report.dataset}"
    )
    for c in m.per_class:
        table.add_row(
            c.name,
            str(c.ground_truths),
            f"{c.ap50:.3f}",
            f"{c.ap50_95:.3f}",
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.threshold:.2f}",
        )
    console.print(table)
    console.print(
        f"images {m.images}  mAP50 [bold]{m.map50:.4f}[/bold]  mAP50-95 [bold]{m.map50_95:.4f}[/bold]"
    )
    level = report.image_level
    if level is not None:
        console.print(
            f"image level {level.finding}: recall [bold]{level.recall:.3f}[/bold] "
            f"on {level.positives} photos with a bare head, "
            f"false alarms [bold]{level.false_alarm:.3f}[/bold] on {level.negatives} without"
        )


def _model_under_test(
    model: Path, card: Path | None, classes: str, imgsz: int, conf: float, label: str
) -> Any:
    from training.evaluation_service import ModelUnderTest, thresholds_for
    from vision.model_card import read_card

    if card is not None:
        c = read_card(card)
        return ModelUnderTest(
            model,
            tuple(c.classes),
            c.input_size,
            thresholds_for(c.classes, c.thresholds, c.default_threshold),
            label or c.ref,
        )
    if not classes:
        raise typer.BadParameter("give --card or --classes")
    names = tuple(n.strip() for n in classes.split(","))
    return ModelUnderTest(model, names, (imgsz, imgsz), tuple(conf for _ in names), label or model.name)


def _int8_variant(
    model: Path,
    card: ModelCard,
    reports: dict[EvalSet, EvaluationReport],
    calib: list[Path],
    calib_count: int,
    max_drop: float,
    out: Path,
) -> Int8Variant | None:
    """Quantise and gate the promoted model (first of ``reports`` = the gate set): the variant to
    install, or None (and why)."""
    from training.export import calibration_images, spread
    from training.int8_variant import Calibration, build_int8_variant, check_held_out, describe_calibration
    from training.yolo_dataset import DatasetError, split_images

    gate_set, *also = reports
    if calib:
        calibration = describe_calibration(calib, calibration_images(calib, calib_count))
    else:  # the evaluated dataset's own train split, when it has one apart from the held-out images
        try:
            images = spread(split_images(gate_set.data, "train"), calib_count)
            check_held_out(images, [gate_set])
        except (DatasetError, ValueError) as exc:
            console.print(f"[yellow]INT8 variant skipped: {exc}; pass --calib TRAIN_IMAGES[/yellow]")
            return None
        calibration = Calibration(tuple(images), f"{len(images)} of {gate_set.data} [train], spread evenly")
    built = build_int8_variant(
        model,
        card,
        calibration,
        gate_set,
        also,
        work_dir=out / "int8",
        max_drop=max_drop,
        fp32_reports=reports,
    )
    for report in built.int8:
        _print_eval(report)
    message = built.outcome.message
    console.print(message if built.outcome.kept else f"[yellow]{message}; FP32 only[/yellow]")
    return built.variant


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(
        data: Path = typer.Argument(..., help="data.yaml of a YOLO dataset (train + val splits)"),
        model: str = typer.Option(
            "yolo11n.yaml", help="ultralytics architecture yaml (no hub weights offline)"
        ),
        epochs: int = typer.Option(100),
        imgsz: int = typer.Option(640),
        batch: int = typer.Option(16),
        device: str = typer.Option("auto", help="auto = cuda:0 if available else cpu; or cpu / 0 / 0,1"),
        workers: int = typer.Option(2, help="dataloader workers"),
        project: Path = typer.Option(Path("runs/train"), help="runs directory"),
        name: str = typer.Option("model", help="run name (weights in PROJECT/NAME/weights/)"),
        resume: bool = typer.Option(False, "--resume", help="continue PROJECT/NAME/weights/last.pt"),
        time_hours: float | None = typer.Option(None, help="wall budget in hours (overrides epochs)"),
        threads: int | None = typer.Option(None, help="torch CPU threads"),
        cache: bool = typer.Option(False, help="cache decoded images in RAM"),
        seed: int = typer.Option(0),
    ) -> None:
        """Train a detector with ultralytics from a *.yaml architecture, offline; resumable."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from training.trainer import TrainConfig, TrainingDataError, train

        cfg = TrainConfig(
            data,
            model,
            epochs,
            imgsz,
            batch,
            device,
            workers,
            project,
            name,
            resume,
            time_hours,
            seed,
            threads,
            cache=cache,
        )
        with Progress(
            TextColumn("[bold]epochs"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("", total=epochs)

            def on_epoch(epoch: int, total: int, metrics: dict[str, float]) -> None:
                shown = " ".join(f"{k.split('/')[-1]}={v:.3f}" for k, v in metrics.items() if "mAP50" in k)
                progress.update(task, completed=epoch, total=total, description=shown)

            try:
                result = train(cfg, on_epoch)
            except TrainingDataError as exc:
                console.print(f"[red]cannot train: {exc}[/red]")
                raise typer.Exit(2) from exc
        console.print(
            f"{result.epochs} epochs on {result.device} in {result.duration_s:.0f}s; best {result.best}"
        )

    @app.command("warmstart")
    def warmstart_cmd(
        onnx_model: Path = typer.Argument(..., help="one of our exported ONNX models (e.g. models/ppe/1)"),
        out: Path = typer.Option(..., help="ultralytics .pt to write (pass it to `train --model`)"),
        calib: Path = typer.Option(..., help="directory of images to measure BatchNorm statistics on"),
        classes: str = typer.Option(..., help="class names of the new task (same count as the ONNX model)"),
        calib_count: int = typer.Option(64, help="calibration images used"),
        arch: str = typer.Option("yolo11n.yaml", help="architecture the ONNX model was trained with"),
        imgsz: int = typer.Option(320, help="calibration input size (the model's)"),
    ) -> None:
        """Turn our own ONNX model back into a trainable checkpoint (transfer learning, offline)."""
        from training.warmstart import warmstart_from_onnx
        from training.yolo_dataset import list_images
        from vision.images import read_image

        images = [read_image(p, max_pixels=50_000_000) for p in list_images(calib)[:calib_count]]
        names = tuple(n.strip() for n in classes.split(",") if n.strip())
        try:
            result = warmstart_from_onnx(onnx_model, out, images, names, arch, imgsz)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        console.print(
            f"{result.tensors_loaded} tensors from {onnx_model} → {result.checkpoint} "
            f"(max |torch − onnxruntime| {result.max_abs_diff:.2e})"
        )

    @app.command("export")
    def export_cmd(
        weights: Path = typer.Argument(..., help="ultralytics checkpoint (.pt)"),
        out: Path = typer.Option(..., help="FP32 ONNX output path"),
        imgsz: int = typer.Option(640),
        opset: int = typer.Option(17, help="ONNX opset (pinned)"),
        int8: bool = typer.Option(
            False, "--int8", help="also write OUT with .int8.onnx (static QDQ, per-channel)"
        ),
        calib: list[Path] = typer.Option(
            [], "--calib", help="directory of training images to calibrate --int8 on (repeatable)"
        ),
        calib_count: int = typer.Option(64, help="calibration images, spread evenly over the --calib dirs"),
        eval_data: Path | None = typer.Option(
            None, help="held-out data.yaml: keep INT8 only if each class's AP50 is within --max-drop"
        ),
        eval_split: str = typer.Option("val"),
        classes: str = typer.Option("", help="class names (comma-separated) for --eval-data"),
        max_drop: float = typer.Option(0.01, help="max AP50 loss per class of INT8 vs FP32 (0.01 = 1 point)"),
    ) -> None:
        """Export to ONNX (opset pinned, simplified, dynamic batch); optional gated INT8 quantisation."""
        from training.export import calibration_images, export_onnx, gated_int8, quantize_int8

        if not weights.is_file():
            raise typer.BadParameter(f"{weights} does not exist")
        try:
            fp32 = export_onnx(weights, out, imgsz=imgsz, opset=opset)
        except ModuleNotFoundError:
            raise  # the [train] extra is missing: said by the plugin wrapper
        except Exception as exc:  # torch/ultralytics raise pickle, zip, key and runtime errors alike
            console.print(
                f"[red]cannot export {weights}: not a loadable checkpoint ({type(exc).__name__}: {exc})[/red]"
            )
            raise typer.Exit(2) from exc
        console.print(f"FP32 ONNX → {fp32} ({fp32.stat().st_size / 1e6:.1f} MB)")
        if not int8:
            return
        if not calib:
            raise typer.BadParameter("--int8 needs --calib DIR")
        images = calibration_images(calib, calib_count)
        q_path = out.with_suffix(".int8.onnx")
        if eval_data is None:
            q = quantize_int8(fp32, q_path, images, imgsz=imgsz)
            size_mb = q.stat().st_size / 1e6
            console.print(f"INT8 ONNX → {q} ({size_mb:.1f} MB, {len(images)} calibration images)")
            return
        from training.evaluation_service import evaluate_model
        from training.int8_variant import labelled_ap50

        def ap50_of(path: Path) -> dict[str, float]:
            label = "int8" if path == q_path else "fp32"
            mut = _model_under_test(path, None, classes, imgsz, 0.25, label)
            report = evaluate_model(mut, eval_data, eval_split, out.parent / f"eval_{label}")
            _print_eval(report)
            return labelled_ap50(report)

        outcome = gated_int8(fp32, q_path, images, ap50_of, max_drop=max_drop, imgsz=imgsz)
        console.print(outcome.message if outcome.kept else f"[yellow]{outcome.message}[/yellow]")

    @app.command("evaluate")
    def evaluate_cmd(
        model: Path = typer.Argument(..., help="model.onnx"),
        data: Path = typer.Option(..., "--data", "--dataset", help="data.yaml of the evaluation dataset"),
        split: str = typer.Option("val", help="split of --data to evaluate on"),
        card: Path | None = typer.Option(None, help="card.json: classes, input size, deployed thresholds"),
        classes: str = typer.Option("", help="class names if no --card (comma-separated, model order)"),
        imgsz: int = typer.Option(640, help="input size if no --card"),
        conf: float = typer.Option(0.25, help="deployed threshold if no --card"),
        out: Path = typer.Option(Path("runs/eval"), help="report.json, pr_curve.png, confusion_matrix.png"),
        threads: int | None = typer.Option(None, help="onnxruntime intra-op threads"),
    ) -> None:
        """mAP50, mAP50-95, per-class AP and P/R at the deployed thresholds via hazardeye's own runtime.

        AP is COCO-style 101-point interpolated; the detector runs with a 0.001 confidence floor.
        """
        from training.evaluate import ClassMismatchError
        from training.evaluation_service import evaluate_model

        mut = _model_under_test(model, card, classes, imgsz, conf, "")
        try:
            report = evaluate_model(mut, data, split, out, threads=threads)
        except ClassMismatchError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        _print_eval(report)
        console.print(f"report → {out / 'report.json'}")

    @app.command("operating-point")
    def operating_point_cmd(
        model: Path = typer.Argument(..., help="candidate model.onnx"),
        data: Path = typer.Option(
            ..., "--data", help="held-out data.yaml labelling 'head' (the target's finding)"
        ),
        split: str = typer.Option("val"),
        classes: str = typer.Option(..., help="model class names (comma-separated, model order)"),
        imgsz: int = typer.Option(640, help="model input size"),
        also: list[str] = typer.Option(
            [], "--also", help="DATA.yaml:SPLIT for classes --data does not label (their F1 threshold)"
        ),
        min_recall: float = typer.Option(0.90, help="target: photos with a bare head that are flagged"),
        max_false_alarm: float = typer.Option(0.10, help="target: photos without one that are flagged"),
        template: Path = typer.Option(
            ..., help="card template JSON to write thresholds + operating point into"
        ),
        threads: int | None = typer.Option(None, help="onnxruntime intra-op threads"),
    ) -> None:
        """Pick per-class thresholds on held-out data for an image-level target; write them to a template."""
        from training.evaluation_service import ModelUnderTest, collect_results
        from training.operating_point import Target, choose, f1_threshold

        names = tuple(n.strip() for n in classes.split(",") if n.strip())
        mut = ModelUnderTest(model, names, (imgsz, imgsz), tuple(0.25 for _ in names), model.name)
        dataset, results = collect_results(mut, data, split, threads=threads)
        try:
            point = choose(
                results,
                dataset.names,
                target=Target(min_recall, max_false_alarm),
                dataset=str(data),
                split=split,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        thresholds = {n: t for n, t in point.thresholds.items() if n in names}
        for spec in also:
            d, _, s = spec.rpartition(":")
            other, other_results = collect_results(mut, Path(d), s, threads=threads)
            for c, n in enumerate(other.names):
                if n in names and n not in thresholds:
                    thresholds[n] = f1_threshold(other_results, c, 0.25)
        fields: dict[str, Any] = json.loads(template.read_text()) if template.exists() else {}
        fields["thresholds"] = thresholds
        fields["operating_point"] = json.loads(point.model_dump_json())
        template.write_text(json.dumps(fields, indent=2, ensure_ascii=False) + "\n")
        r = point.result
        verdict = "[green]met[/green]" if point.met else "[yellow]NOT met[/yellow]"
        console.print(
            f"target recall ≥ {min_recall:.2f} at false alarms ≤ {max_false_alarm:.2f}: {verdict} — "
            f"recall {r.recall:.3f} ({r.positives} photos), false alarms {r.false_alarm:.3f} ({r.negatives})"
        )
        console.print(f"thresholds {thresholds} → {template}")

    @app.command("promote")
    def promote_cmd(
        model: Path = typer.Argument(..., help="candidate model.onnx"),
        name: str = typer.Option(..., help="model name in models/ (e.g. ppe, leak)"),
        data: Path = typer.Option(
            ..., "--data", "--dataset", help="evaluation data.yaml (same set for both)"
        ),
        split: str = typer.Option("val"),
        template: Path | None = typer.Option(
            None, help="JSON with card fields (training, licence, thresholds …)"
        ),
        classes: str = typer.Option("", help="class names (comma-separated) unless in --template"),
        imgsz: int = typer.Option(640, help="input size unless in --template"),
        precision: str = typer.Option("fp32"),
        models_dir: Path = typer.Option(Path("models")),
        also: list[str] = typer.Option([], "--also", help="extra DATA.yaml:SPLIT evaluations for the card"),
        force: bool = typer.Option(False, "--force", help="install even if worse (needs --reason)"),
        reason: str = typer.Option("", help="why a forced promotion is acceptable (recorded in the card)"),
        tolerance: float = typer.Option(0.0, help="allowed mAP loss vs current before refusing"),
        out: Path = typer.Option(Path("runs/promote"), help="evaluation reports"),
        int8: bool = typer.Option(
            True, "--int8/--no-int8", help="also install a gated INT8 variant (model.int8.onnx + card)"
        ),
        calib: list[Path] = typer.Option(
            [],
            "--calib",
            help="training images to calibrate INT8 on (repeatable); default: --data's train split",
        ),
        calib_count: int = typer.Option(80, help="INT8 calibration images, spread over --calib"),
        max_drop: float = typer.Option(0.01, help="INT8 kept if each class's AP50 is within this of FP32"),
    ) -> None:
        """Install MODEL as the next version of NAME if it is not worse than the current one on --data.

        With --int8 (the default) an INT8 variant is quantised, evaluated on --data (and --also) and
        installed beside it only if AP50 of each class --data labels is within --max-drop of FP32."""
        from training.evaluate import ClassMismatchError
        from training.evaluation_service import (
            ModelUnderTest,
            evaluate_model,
            thresholds_for,
            to_card_metrics,
        )
        from training.promote import current_card, gate, install
        from vision.model_card import ModelCard, sha256_of
        from vision.onnx_detector import ModelError

        fields: dict[str, Any] = json.loads(template.read_text()) if template else {}
        fields.setdefault("classes", [n.strip() for n in classes.split(",") if n.strip()])
        fields.setdefault("input_size", [imgsz, imgsz])
        fields.setdefault("licence", "proprietary")
        fields.setdefault("training", {"dataset": str(data)})
        fields.update(
            name=name,
            version=1,
            sha256=sha256_of(model),
            precision=precision,
            created=datetime.now(UTC).isoformat(),
        )
        card = ModelCard.model_validate(fields)
        th = thresholds_for(card.classes, card.thresholds, card.default_threshold)
        try:
            cand = evaluate_model(
                ModelUnderTest(model, tuple(card.classes), card.input_size, th, f"{name}@candidate"),
                data,
                split,
                out / "candidate",
            )
        except (ClassMismatchError, ModelError) as exc:  # nothing is installed
            console.print(f"[red]cannot promote {model}: {exc}[/red]")
            raise typer.Exit(2) from exc
        _print_eval(cand)
        existing = current_card(models_dir, name)
        cur_metrics = None
        if existing is not None:
            cur_card, cur_path = existing
            cur = evaluate_model(
                ModelUnderTest(
                    cur_path,
                    tuple(cur_card.classes),
                    cur_card.input_size,
                    thresholds_for(cur_card.classes, cur_card.thresholds, cur_card.default_threshold),
                    cur_card.ref,
                ),
                data,
                split,
                out / "current",
            )
            _print_eval(cur)
            cur_metrics = cur.metrics
        try:
            decision = gate(cand.metrics, cur_metrics, force=force, reason=reason, tolerance=tolerance)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if not decision.accepted:
            console.print(f"[red]{decision.message}[/red]")
            raise typer.Exit(1)
        from training.int8_variant import EvalSet

        gate_set = EvalSet(data, split, str(data))
        reports = {gate_set: cand}
        for spec in also:
            d, _, s = spec.rpartition(":")
            rep = evaluate_model(
                ModelUnderTest(model, tuple(card.classes), card.input_size, th, name),
                Path(d),
                s,
                out / f"also_{Path(d).stem}_{s}",
            )
            _print_eval(rep)
            reports[EvalSet(Path(d), s, d)] = rep
        card = card.model_copy(
            update={
                "metrics": to_card_metrics(cand, str(data)),
                "evaluations": [to_card_metrics(r, k.label) for k, r in reports.items() if k != gate_set],
            }
        )
        variant = _int8_variant(model, card, reports, calib, calib_count, max_drop, out) if int8 else None
        target = install(models_dir, card, model, decision, reason, int8=variant)
        console.print(f"[green]{decision.message}[/green]\ninstalled → {target}")
