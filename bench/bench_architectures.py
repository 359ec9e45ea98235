"""YOLO11n vs YOLO26n latency at the same input size, one thread, interleaved in one process (issue 11).

    nice -n 5 python bench/bench_architectures.py [--imgsz 640] [--rounds 30] [--classes 4]

Latency is a property of the architecture, not of the weights, so both networks are built from
ultralytics' yaml (untrained), exported the way `hazardeye export` does (ONNX opset 17, simplified,
dynamic) and run by onnxruntime with our session options on one intra-op thread. YOLO26 is exported
both end-to-end (its NMS-free head, output (1, 300, 6)) and with the classic (1, 4+C, N) head our
runtime decodes. Rounds alternate the contestants in random order; the median per contestant and the
ratio against YOLO11n are printed. Needs the [train] extra (ultralytics, torch).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _export(arch: str, imgsz: int, classes: int, out: Path, end2end: bool | None) -> Path:
    from training.offline import prepare_ultralytics

    prepare_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(arch, nc=classes, verbose=False)
    pt = out / f"{Path(arch).stem}-{end2end}.pt"
    import torch

    model.names = {i: str(i) for i in range(classes)}
    setattr(model, "args", {"imgsz": imgsz})  # noqa: B010
    torch.save({"model": model, "ema": None, "optimizer": None, "epoch": -1, "train_args": {}}, pt)
    from ultralytics.models import YOLO

    kwargs = {} if end2end is None else {"end2end": end2end}
    produced = YOLO(str(pt)).export(
        format="onnx", imgsz=imgsz, opset=17, dynamic=True, simplify=True, device="cpu", **kwargs
    )
    return Path(produced)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    from vision.onnx_detector import make_session

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        models = {
            "yolo11n": _export("yolo11n.yaml", args.imgsz, args.classes, out, None),
            "yolo26n-e2e": _export("yolo26n.yaml", args.imgsz, args.classes, out, True),
            "yolo26n-classic": _export("yolo26n.yaml", args.imgsz, args.classes, out, False),
        }
        sessions = {name: make_session(path, 1) for name, path in models.items()}
        x = np.random.default_rng(0).random((1, 3, args.imgsz, args.imgsz), dtype=np.float32)
        shapes = {}
        for name, s in sessions.items():
            outputs = s.run(None, {s.get_inputs()[0].name: x})
            shapes[name] = [tuple(o.shape) for o in outputs]
            for _ in range(3):
                s.run(None, {s.get_inputs()[0].name: x})  # warm-up
        times: dict[str, list[float]] = {name: [] for name in sessions}
        for _ in range(args.rounds):
            order = list(sessions)
            random.shuffle(order)
            for name in order:
                s = sessions[name]
                start = time.perf_counter()
                s.run(None, {s.get_inputs()[0].name: x})
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["yolo11n"])
    print(
        f"input {args.imgsz}x{args.imgsz}, {args.classes} classes, 1 thread, {args.rounds} interleaved rounds"
    )
    for name, t in times.items():
        med = statistics.median(t)
        spread = (statistics.quantiles(t, n=4)[2] - statistics.quantiles(t, n=4)[0]) / med
        print(
            f"  {name:16s} median {med * 1e3:7.1f} ms  ratio vs yolo11n {med / base:5.2f}  "
            f"IQR/median {spread:4.2f}  outputs {shapes[name]}"
        )


if __name__ == "__main__":
    main()
