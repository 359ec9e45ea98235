"""One GPU sitting on the lent machine: train on the unpacked shards, export ONNX, validate, write to OUT.

Runs under the device image's own Python (torch, opencv, numpy, matplotlib, pyyaml; ultralytics carried
as a wheel), so it imports nothing of hazardeye beyond ``training.offline`` (no pydantic there). What the
image lacks is worked around here, not installed: polars (only read back results.csv) and the AMP
self-check (it downloads yolo26n.pt). Training is bounded by ``--minutes`` (ultralytics fits the epoch
count and LR schedule to it). Outputs: OUT/model.onnx, OUT/metrics.json (per-class AP50 on the held-out
val split, wall times). Then, here: ``hazardeye operating-point`` and ``hazardeye promote``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

CLASSES = ("head", "helmet", "person", "vest")


def _work_around_the_image() -> None:
    from ultralytics.engine import trainer

    setattr(trainer, "check_amp", lambda *_a, **_k: True)  # noqa: B010 - offline, it would fetch weights
    try:
        import polars  # noqa: F401
    except ModuleNotFoundError:
        setattr(trainer.BaseTrainer, "read_results_csv", lambda self: {})  # noqa: B010


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="unpacked shards: images/, labels/")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="yolo11n.yaml", help="architecture yaml (from scratch) or a .pt")
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--epochs", type=int, default=300, help="upper bound; --minutes decides")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="0")
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the train split (dry runs)")
    args = parser.parse_args()

    from training.offline import prepare_ultralytics

    prepare_ultralytics()
    _work_around_the_image()
    from ultralytics.models import YOLO

    args.out.mkdir(parents=True, exist_ok=True)
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(CLASSES))
    data = args.out / "data.yaml"
    data.write_text(f"path: {args.data_dir.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}")
    started = time.monotonic()
    model = YOLO(args.model)
    model.train(
        data=str(data),
        epochs=args.epochs,
        time=args.minutes / 60,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        workers=args.workers,
        fraction=args.fraction,
        cache="ram",
        amp=args.device != "cpu",
        plots=False,
        val=False,  # one validation at the end; per-epoch validation costs training time
        close_mosaic=3,
        scale=0.6,
        hsv_v=0.5,
        project=str(args.out.resolve() / "runs"),
        name="gpu",
        exist_ok=True,
        seed=0,
    )
    trained_s = time.monotonic() - started
    trainer: Any = model.trainer
    best = Path(trainer.save_dir) / "weights" / "best.pt"
    metrics = YOLO(str(best)).val(data=str(data), imgsz=args.imgsz, batch=32, device=args.device, plots=False)
    per_class = {
        CLASSES[int(c)]: round(float(ap), 4)
        for c, ap in zip(metrics.box.ap_class_index, metrics.box.ap50, strict=True)
    }
    onnx = YOLO(str(best)).export(
        format="onnx", imgsz=args.imgsz, opset=17, dynamic=True, simplify=True, device="cpu"
    )
    shutil.move(str(onnx), args.out / "model.onnx")
    shutil.copyfile(best, args.out / "best.pt")
    report = {
        "architecture": args.model,
        "epochs": int(trainer.epoch) + 1,
        "imgsz": args.imgsz,
        "train_s": round(trained_s, 1),
        "total_s": round(time.monotonic() - started, 1),
        "ap50_val": per_class,
        "map50_val": round(float(metrics.box.map50), 4),
        "images_train": len(list((args.data_dir / "images" / "train").iterdir())),
        "device": args.device,
    }
    (args.out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(args.out / "runs", ignore_errors=True)  # only flat files come back
    print(json.dumps(report))


if __name__ == "__main__":
    main()
