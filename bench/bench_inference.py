"""Inference throughput on the same images, in one process (issue 2's benchmark).

    nice -n 5 python bench/bench_inference.py [--images 200] [--passes 2] [--block 20] [--threads N]
                                              [--spin] [--options] [--int8] [--no-ultralytics] [--openvino]

Contestants, all on CPU, on the same JPEG files:
  raw@rect     the detector's own onnxruntime session alone at batch 1, fed pre-made tensors of exactly
               the shape our full path feeds it (the minimal stride-aligned rect; dynamic H/W);
  raw@square   the same session fed 320x320 squares (what a fixed-shape pipeline would do);
  full@1       hazardeye at batch 1: ``detect_iter`` over a generator that reads and decodes each JPEG →
               letterbox → tensor → infer → decode/NMS → PPE findings (pre/post-processing pipelined
               with inference on a helper thread);
  full@8       hazardeye's default ``detect_many`` (batches of 8, grouped by input shape, pipelined) on
               the decoded images of the block (decode included) → findings;
  ultralytics  ``YOLO("model.onnx").predict(path)`` per image with its own defaults ([train] extra).
The 15 % target ("within 15 % of raw session time at batch 1") is full@1 against raw@rect: the runtime's
cost for the very tensors our path runs. The 1.5x target is against ultralytics. ``--spin`` makes our
sessions busy-wait (ultralytics' session does by default): for cores nobody else uses.

Load on this machine comes and goes (2 shared cores), so the contestants are interleaved: the images are
cut into blocks of ``--block``; every block is run by each contestant in turn, in a random order per
block and with an untimed pause between contestants (so one's idle worker threads do not bill the next);
each pass goes over all images. Per contestant it prints images / summed seconds, the median block's
rate (robust to load spikes), and process CPU ms per image (barely moved by other processes). Ratios are
given four ways: by summed time, by median block, "paired" (median over blocks of the two contestants'
times on the same images, back to back) and by CPU time.
``--options`` adds raw@rect under alternative session options (spinning toggled; 1 intra-op thread).
``--int8`` adds the version's INT8 variant (``model.int8.onnx``) as int8 raw@rect, int8 full@1 and
int8 full@8, interleaved with the FP32 contestants on the same images, and prints INT8/FP32 speed ratios
with their spread over blocks (quartiles of the paired per-block ratio: the noise of this machine).
The FP32 contestants are always the FP32 file, whatever CPU this runs on.
``--openvino`` adds ``openvino full@1`` (and with ``--int8``, ``int8 openvino full@1``): the same full path
with the detector on the OpenVINO engine, against onnxruntime's full@1 of the same file.
Uses ../shared/datasets/hardhat/valid/images; prints "skipped" and exits 0 without it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.images import read_image
from vision.letterbox import letterbox, to_input_tensor
from vision.onnx_detector import DetectorOptions, OnnxDetector, make_session
from vision.registry import ModelEntry, ModelRegistry
from vision.rules import findings_for

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "hardhat" / "valid" / "images"
MAX_PIXELS = 10**8
SETTLE_S = 0.05

Work = Callable[[range], object]  # runs one block of images, by index


@dataclass
class Timing:
    name: str
    seconds_per_pass: list[float] = field(default_factory=list)
    seconds_per_block: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # process CPU time (all threads): far less moved by other processes' load

    def rate(self, images: int) -> float:
        return images * len(self.seconds_per_pass) / sum(self.seconds_per_pass)

    def median_rate(self, block: int) -> float:
        """Images/s of the median block: a load spike that hit a few blocks does not move it."""
        return block / statistics.median(self.seconds_per_block)

    def cpu_ms_per_image(self, images: int) -> float:
        return 1000 * self.cpu_seconds / (images * len(self.seconds_per_pass))

    def pass_rates(self, images: int) -> list[float]:
        return [images / seconds for seconds in self.seconds_per_pass]


def interleave(contestants: dict[str, Work], count: int, passes: int, block: int) -> dict[str, Timing]:
    timings = {name: Timing(name) for name in contestants}
    names = list(contestants)
    # A fresh random order per block (seeded): a fixed rotation would always put the same contestant
    # right after ultralytics, whose torch thread pool keeps spinning a moment after each predict.
    shuffler = random.Random(2)
    for _ in range(passes):
        for timing in timings.values():
            timing.seconds_per_pass.append(0.0)
        for start in range(0, count, block):
            indices = range(start, start + block)
            shuffler.shuffle(names)
            for name in names:
                time.sleep(SETTLE_S)  # untimed: lets the previous contestant's worker threads go idle
                work = contestants[name]
                began, began_cpu = time.perf_counter(), time.process_time()
                work(indices)
                elapsed = time.perf_counter() - began
                timings[name].cpu_seconds += time.process_time() - began_cpu
                timings[name].seconds_per_pass[-1] += elapsed
                timings[name].seconds_per_block.append(elapsed)
    return timings


def paired_ratio(numerator: Timing, denominator: Timing) -> float:
    """Median over blocks of numerator/denominator seconds: both ran the same images back to back."""
    return statistics.median(
        n / d for n, d in zip(numerator.seconds_per_block, denominator.seconds_per_block, strict=True)
    )


def paired_quartiles(numerator: Timing, denominator: Timing) -> tuple[float, float, float]:
    """Quartiles over blocks of denominator/numerator seconds (a speed ratio: > 1 = numerator faster)."""
    ratios = [d / n for n, d in zip(numerator.seconds_per_block, denominator.seconds_per_block, strict=True)]
    q1, q2, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    return q1, q2, q3


def raw_runner(session: ort.InferenceSession, tensors: Sequence[npt.NDArray[np.float32]]) -> Work:
    name = session.get_inputs()[0].name

    def run(block: range) -> object:
        return [session.run(None, {name: tensors[index]}) for index in block]

    return run


def streamed_runner(detector: OnnxDetector, paths: Sequence[Path]) -> Work:
    def run(block: range) -> object:
        images = (read_image(paths[index], max_pixels=MAX_PIXELS) for index in block)
        return [findings_for(detections) for detections in detector.detect_iter(images)]

    return run


def batched_runner(detector: OnnxDetector, paths: Sequence[Path]) -> Work:
    def run(block: range) -> object:
        images = [read_image(paths[index], max_pixels=MAX_PIXELS) for index in block]
        return [findings_for(detections) for detections in detector.detect_many(images)]

    return run


def ultralytics_runner(entry: ModelEntry, paths: Sequence[Path]) -> Work | None:
    os.environ.setdefault("YOLO_OFFLINE", "1")  # no hub, no font downloads: the bench runs offline
    try:
        from ultralytics.models import YOLO  # optional: the [train] extra
    except ImportError:
        return None
    model = YOLO(str(entry.model_path), task="detect")
    imgsz, conf = entry.card.input_size[0], entry.card.default_threshold
    model.predict(np.zeros((64, 64, 3), np.uint8), imgsz=imgsz, verbose=False)

    def run(block: range) -> object:
        return [model.predict(str(paths[index]), imgsz=imgsz, verbose=False, conf=conf) for index in block]

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--block", type=int, default=20, help="images per interleaving block")
    parser.add_argument("--model", default="ppe")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    parser.add_argument("--spin", action="store_true", help="busy-waiting session threads (dedicated cores)")
    parser.add_argument("--options", action="store_true", help="also time alternative session options")
    parser.add_argument("--int8", action="store_true", help="also time the INT8 variant against FP32")
    parser.add_argument("--no-ultralytics", action="store_true", help="leave ultralytics' predict out")
    parser.add_argument(
        "--openvino", action="store_true", help="also time the OpenVINO engine against onnxruntime (full@1)"
    )
    args = parser.parse_args()
    paths = sorted(DATA.glob("*.jpg"))[: args.images]
    if not paths:
        print(f"skipped: no images under {DATA}")
        return 0
    options = DetectorOptions(intra_op_threads=args.threads, allow_spinning=args.spin)
    registry = ModelRegistry(ROOT / "models", options=options, precision="fp32")
    entry, detector = registry.detector(args.model)  # the default batch size (8): detect_many
    single_options = replace(options, batch_size=1)
    _, single = ModelRegistry(ROOT / "models", options=single_options, precision="fp32").detector(args.model)
    size = entry.card.input_size
    images = [read_image(path, max_pixels=MAX_PIXELS) for path in paths]
    rect = [to_input_tensor([letterbox(image, size, stride=detector.stride)[0]]) for image in images]
    square = [to_input_tensor([letterbox(image, size)[0]]) for image in images]
    shapes = sorted({tensor.shape[2:] for tensor in rect})
    print(
        f"{entry.ref}: {len(paths)} images from {DATA}, input {size[0]}x{size[1]}, stride {detector.stride}, "
        f"providers {detector.providers}, intra-op threads {args.threads or 'default'}, "
        f"spinning {'on' if args.spin else 'off'}, "
        f"rect shapes {shapes}"
    )

    session = single.session  # full@1's own session: raw timings use the very same options
    contestants: dict[str, Work] = {
        "raw@rect": raw_runner(session, rect),
        "raw@square": raw_runner(session, square),
        "full@1": streamed_runner(single, paths),
        "full@8": batched_runner(detector, paths),
    }
    ultra = None if args.no_ultralytics else ultralytics_runner(entry, paths)
    if ultra is not None:
        contestants["ultralytics"] = ultra
    sessions = [session, detector.session]
    if args.int8:
        if "int8" not in entry.precisions:
            print(f"skipped --int8: {entry.ref} has no INT8 variant")
            return 0
        _, int8_many = ModelRegistry(ROOT / "models", options=options, precision="int8").detector(args.model)
        int8_reg = ModelRegistry(ROOT / "models", options=single_options, precision="int8")
        _, int8_single = int8_reg.detector(args.model)
        print(f"INT8: {int8_single.model_path}")
        contestants["int8 raw@rect"] = raw_runner(int8_single.session, rect)
        contestants["int8 full@1"] = streamed_runner(int8_single, paths)
        contestants["int8 full@8"] = batched_runner(int8_many, paths)
        sessions += [int8_single.session, int8_many.session]
    engines_to_warm = []
    if args.openvino:
        for precision in entry.precisions:
            ov_registry = ModelRegistry(
                ROOT / "models", options=replace(single_options, engine="openvino"), precision=precision
            )
            _, ov = ov_registry.detector(args.model)
            prefix = "" if precision == "fp32" else "int8 "
            contestants[f"{prefix}openvino full@1"] = streamed_runner(ov, paths)
            engines_to_warm.append(ov.engine)
    if args.options:
        toggled = "no spin" if args.spin else "spin"
        for label, spinning, threads in ((toggled, not args.spin, args.threads), ("1 thread", args.spin, 1)):
            sessions.append(make_session(entry.model_path, threads, allow_spinning=spinning))
            contestants[f"raw@rect {label}"] = raw_runner(sessions[-1], rect)
    for warm in sessions:  # the first run of each shape plans and allocates: keep it out of the timings
        for shape in [*shapes, (size[0], size[1])]:
            warm.run(None, {warm.get_inputs()[0].name: np.zeros((1, 3, *shape), np.float32)})
    for engine in engines_to_warm:
        for shape in [*shapes, (size[0], size[1])]:
            engine.run(engine.inputs[0].name, np.zeros((1, 3, *shape), np.float32))
    for work in contestants.values():  # lazy imports, caches
        work(range(min(len(paths), 3)))

    count = len(paths) - len(paths) % args.block  # whole blocks only: every block is the same size
    timings = interleave(contestants, count, args.passes, args.block)
    raw_rect, raw_square = timings["raw@rect"], timings["raw@square"]
    full, batched = timings["full@1"], timings["full@8"]
    block = args.block
    print(f"{count} images x {args.passes} passes, blocks of {block}, contestants interleaved per block")
    print(f"{'contestant':<20}{'img/s':>8}{'median-block img/s':>20}{'CPU ms/img':>12}   img/s per pass")
    for timing in timings.values():
        passes = " ".join(f"{rate:6.1f}" for rate in timing.pass_rates(count))
        print(
            f"{timing.name:<20}{timing.rate(count):8.1f}{timing.median_rate(block):20.1f}"
            f"{timing.cpu_ms_per_image(count):12.2f}   {passes}"
        )

    def ratios(ours: Timing, other: Timing) -> str:
        median = ours.median_rate(block) / other.median_rate(block)
        cpu = other.cpu_ms_per_image(count) / ours.cpu_ms_per_image(count)
        return (
            f"{ours.rate(count) / other.rate(count):.3f} (median block {median:.3f}, "
            f"paired {paired_ratio(other, ours):.3f}, CPU time {cpu:.3f})"
        )

    print(f"full@1 / raw@rect    (target >= 0.85): {ratios(full, raw_rect)}")
    print(f"full@1 / raw@square  (context):        {ratios(full, raw_square)}")
    if "ultralytics" in timings:
        print(f"full@8 / ultralytics (target >= 1.5):  {ratios(batched, timings['ultralytics'])}")
        print(f"full@1 / ultralytics (context):        {ratios(full, timings['ultralytics'])}")
        if "int8 full@8" in timings:
            versus = ratios(timings["int8 full@8"], timings["ultralytics"])
            print(f"int8 full@8 / ultralytics (FP32):      {versus}")
    else:
        print("ultralytics not run (--no-ultralytics, or no [train] extra)")
    for fp32_name in ("raw@rect", "full@1", "full@8"):
        if f"int8 {fp32_name}" in timings:
            int8_timing, fp32_timing = timings[f"int8 {fp32_name}"], timings[fp32_name]
            q1, q2, q3 = paired_quartiles(int8_timing, fp32_timing)
            print(
                f"int8 / fp32 {fp32_name} speed: {ratios(int8_timing, fp32_timing)}; "
                f"per-block paired quartiles {q1:.3f} / {q2:.3f} / {q3:.3f}"
            )
    for prefix in ("", "int8 "):
        if f"{prefix}openvino full@1" in timings:
            ov_timing, ort_timing = timings[f"{prefix}openvino full@1"], timings[f"{prefix}full@1"]
            q1, q2, q3 = paired_quartiles(ov_timing, ort_timing)
            print(
                f"{prefix}openvino / onnxruntime full@1 speed: {ratios(ov_timing, ort_timing)}; "
                f"per-block paired quartiles {q1:.3f} / {q2:.3f} / {q3:.3f}"
            )
    for name in [n for n in timings if n.startswith("raw@rect ")]:
        print(f"{name} / raw@rect (session options): {ratios(timings[name], raw_rect)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
