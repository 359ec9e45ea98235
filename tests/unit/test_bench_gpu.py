"""bench/bench_gpu.py on the CPU: the dry run's report; the torch path finds what vision's detector finds.

The GPU run itself needs a lent H200 (scripts/gpu-bench); what can go wrong before that is checked here: the
model is the one the registry serves, the torch pipeline (decode → letterbox → network → thresholds → NMS →
source pixels) gives the same boxes as vision's onnxruntime detector, and the dry run writes a full report.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from vision.onnx_detector import DetectorOptions, OnnxDetector
from vision.registry import ModelRegistry

pytestmark = pytest.mark.slow  # converts and runs the PPE network several ways on the CPU

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_gpu.py"
HARDHAT = sorted((ROOT / "tests/fixtures/hardhat/images").glob("*.jpg"))
PHOTOS = [*HARDHAT, ROOT / "tests/fixtures/clip/one_worker_helmet.jpg"]
TIMED = ("onnx→torch FP32", "onnx→torch FP16", "torch FP16 eager")


def _read(photo: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    assert image is not None, photo
    return np.asarray(image, dtype=np.uint8)


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gpu"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


def test_the_model_is_the_one_the_registry_serves(bench: Any) -> None:
    entry = ModelRegistry(ROOT / "models").get("ppe")
    spec = bench.resolve_model(ROOT / "models/ppe")
    assert (spec.ref, spec.onnx_path, spec.sha256) == (entry.ref, entry.model_path, entry.card.sha256)
    card = entry.card
    assert spec.classes == tuple(card.classes) and spec.input_size == tuple(card.input_size)
    assert spec.thresholds == tuple(card.thresholds.get(c, card.default_threshold) for c in card.classes)
    assert spec.iou_threshold == card.iou_threshold


def test_torch_path_finds_the_same_boxes_as_the_projects_detector(bench: Any) -> None:
    import onnx

    spec = bench.resolve_model(ROOT / "models/ppe")
    device = torch.device("cpu")
    networks, skipped = bench.build_networks(onnx.load(str(spec.onnx_path)), spec, device, eager_fp32=True)
    fp32 = [n for n in networks if n.dtype == torch.float32]
    assert [n.label for n in fp32] == ["onnx→torch FP32", "torch FP32 eager"], skipped
    pipeline = bench.Pipeline(spec, 32, device, spec.input_size)
    reference = OnnxDetector(
        spec.onnx_path,
        spec.classes,
        spec.input_size,
        thresholds=dict(zip(spec.classes, spec.thresholds, strict=True)),
        options=DetectorOptions(iou_threshold=spec.iou_threshold),
    )
    found = 0
    with torch.inference_mode():
        for photo in PHOTOS:
            want = reference.detect(_read(photo))
            found += len(want)
            jpeg = torch.frombuffer(bytearray(photo.read_bytes()), dtype=torch.uint8)
            for network in fp32:
                (ours,) = pipeline.detect(network, [jpeg])
                gap = bench.agreement(ours, want.boxes, want.class_ids)
                assert gap <= 1.0, f"{network.label} on {photo.name}: {gap} px"
                # torch's float resize and OpenCV's fixed-point one differ by a grey level here and there:
                # scores move in the third decimal (0.004 seen), boxes by a fraction of a pixel.
                np.testing.assert_allclose(np.sort(ours.scores), np.sort(want.confidences), atol=0.01)
    assert found >= 5  # the comparison is not vacuous: the fixtures hold heads and helmets


def test_postprocess_keeps_images_and_classes_apart_and_maps_to_source_pixels(bench: Any) -> None:
    spec = bench.resolve_model(ROOT / "models/ppe")
    pipeline = bench.Pipeline(spec, 32, torch.device("cpu"), spec.input_size)
    head, helmet = spec.classes.index("head"), spec.classes.index("helmet")
    raw = torch.zeros((2, 4 + len(spec.classes), 6))
    # image 0: two overlapping heads (the weaker is suppressed), a helmet on the same spot (kept: another
    # class), one head below its threshold; image 1: the same strong head (kept: another image).
    for image, anchor, box, label, score in (
        (0, 0, (100, 100, 40, 40), head, 0.9),
        (0, 1, (102, 101, 40, 40), head, 0.8),
        (0, 2, (100, 100, 40, 40), helmet, 0.7),
        (0, 3, (300, 300, 20, 20), head, spec.thresholds[head] - 0.01),
        (1, 0, (100, 100, 40, 40), head, 0.9),
    ):
        raw[image, :4, anchor] = torch.tensor(box, dtype=torch.float32)
        raw[image, 4 + label, anchor] = score
    # image 0 was scaled by 0.5 and padded 10 px left; image 1 unscaled, 8 px top, 90x90 source.
    transforms = torch.tensor([[0.5, 10, 0, 1000, 800], [1.0, 0, 8, 90, 90]], dtype=torch.float32)
    first, second = pipeline.postprocess(raw, transforms)
    assert first.class_ids.tolist() == [head, helmet]
    np.testing.assert_allclose(first.scores, [0.9, 0.7], rtol=1e-6)
    np.testing.assert_allclose(first.boxes, [[140, 160, 220, 240]] * 2)  # ((80..120) - pad) / 0.5
    assert second.class_ids.tolist() == [head]
    np.testing.assert_allclose(second.boxes, [[80, 72, 90, 90]])  # clipped to the 90x90 source


def test_cpu_dry_run_reports_every_path_and_batch(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for photo in PHOTOS[:3]:  # tiny copies: the dry run is about the report, not the speed
        small = cv2.resize(_read(photo), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(images / photo.name), small)
    out = tmp_path / "report.json"
    args = ["--device", "cpu", "--seconds", "1", "--batches", "1,2", "--rounds", "2", "--imgsz", "128"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--images", str(images), "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["model"] == ModelRegistry(ROOT / "models").get("ppe").ref
    assert report["baseline"] == "torch FP16 eager" and report["images"]["count"] == 3
    assert report["skipped"] == {}, report["skipped"]
    assert [(r["path"], r["batch"]) for r in report["results"]] == [(p, b) for b in (1, 2) for p in TIMED]
    for row in report["results"]:
        for mode in ("end_to_end", "model"):
            assert row[mode]["images_per_s"] > 0 and len(row[mode]["rounds"]) == 2
            assert row[mode]["vs_baseline"] > 0
            if row["path"] == "torch FP16 eager":
                assert row[mode]["vs_baseline"] == 1.0
    assert [d["batch"] for d in report["decode"]] == [1, 2] and all(
        d["images_per_s"] > 0 for d in report["decode"]
    )
    check = report["cross_check"]
    assert check["images"] == 3 and set(check["paths"]) == set(TIMED)
    assert all(result["agree"] == 3 for result in check["paths"].values()), check
    assert all(result["max_input_px"] >= 0 for result in check["paths"].values()), check
    table = done.stdout
    assert "end-to-end img/s" in table and "model img/s" in table and "decode alone" in table
    assert all(f"{path}{' ' * (18 - len(path))}     1" in table for path in TIMED)


def test_a_configuration_that_fails_is_reported_and_the_rest_still_measured(bench: Any) -> None:
    def fails() -> int:
        raise RuntimeError("CUDA out of memory (simulated)\nmore detail")

    good = bench.Contestant("torch FP16 eager", 64, "end_to_end", lambda: 64)
    bad = bench.Contestant("onnx→torch FP32", 64, "end_to_end", fails)
    model = [bench.Contestant(c.path, 64, "model", lambda: 64) for c in (good, bad)]
    bench.measure([good, bad, *model], 0.02, 2, 1, torch.device("cpu"), 0)
    assert bad.error == "RuntimeError: CUDA out of memory (simulated)" and bad.rates == []
    assert good.error is None and len(good.rates) == 2 and good.rate > 0
    rows = {row["path"]: row for row in bench._rows([good, bad, *model])}
    assert rows["onnx→torch FP32"]["end_to_end"]["images_per_s"] is None
    assert rows["onnx→torch FP32"]["model"]["vs_baseline"] > 0  # its other mode still has a ratio
    assert rows["torch FP16 eager"]["end_to_end"]["vs_baseline"] == 1.0
