"""Build an ultralytics training checkpoint from one of OUR shipped ONNX models (transfer learning offline).

Our exported ONNX files hold Conv+BatchNorm folded into one biased conv. To fine-tune, the folding is
undone: the folded weight goes back into the conv, and each BatchNorm gets the per-channel mean/variance
of that conv's output measured on calibration images, with affine terms chosen so the network computes
exactly the same function in eval mode. Training then starts from features that already know real
photos, not from random weights. Architecture and class count must match the ONNX file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WarmstartResult:
    checkpoint: Path
    tensors_loaded: int
    max_abs_diff: float  # torch (eval) vs onnxruntime raw output on a calibration image


def _onnx_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    return {i.name: np.array(numpy_helper.to_array(i)) for i in graph.initializer}  # writable copies


def _to_tensor(images: list[np.ndarray], size: int) -> Any:
    """BGR uint8 photos → the letterboxed NCHW RGB [0, 1] tensor of inference (vision's own preprocessing)."""
    import torch

    from vision.letterbox import letterbox, to_input_tensor

    return torch.from_numpy(to_input_tensor([letterbox(im, (size, size))[0] for im in images]))


def warmstart_from_onnx(
    onnx_path: Path,
    out: Path,
    calibration: list[np.ndarray],
    names: tuple[str, ...],
    arch: str = "yolo11n.yaml",
    imgsz: int = 320,
) -> WarmstartResult:
    """Write ``out`` (an ultralytics ``.pt``) whose eval-mode output equals ``onnx_path``'s."""
    from training.offline import prepare_ultralytics

    if not calibration:
        raise ValueError("warm start needs calibration images to measure BatchNorm statistics")
    prepare_ultralytics()
    import onnxruntime as ort
    import torch
    from ultralytics.nn.modules.conv import Conv
    from ultralytics.nn.tasks import DetectionModel

    weights = _onnx_weights(onnx_path)
    model = DetectionModel(arch, nc=len(names), verbose=False)
    model.eval()
    loaded = 0
    bns: list[tuple[Any, Any, Any]] = []  # (bn, folded bias, conv)
    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            if isinstance(mod, Conv) and isinstance(getattr(mod, "bn", None), torch.nn.BatchNorm2d):
                w, b = weights.get(f"{mod_name}.conv.weight"), weights.get(f"{mod_name}.conv.bias")
                if w is None or b is None or tuple(w.shape) != tuple(mod.conv.weight.shape):
                    raise ValueError(f"{onnx_path}: no matching folded weights for {mod_name}")
                mod.conv.weight.copy_(torch.from_numpy(w))
                bn: Any = mod.bn
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)  # identity scale while measuring
                bn.weight.fill_(1.0)
                bn.bias.copy_(torch.from_numpy(b))
                bns.append((bn, torch.from_numpy(b).clone(), mod.conv))
                loaded += 2
        claimed = {id(c) for _, _, c in bns}
        for mod_name, mod in model.named_modules():
            if isinstance(mod, torch.nn.Conv2d) and id(mod) not in claimed:
                w = weights.get(f"{mod_name}.weight")
                if w is None and mod_name.endswith("dfl.conv"):
                    continue  # fixed arange weights, not learned
                if w is None or tuple(w.shape) != tuple(mod.weight.shape):
                    raise ValueError(f"{onnx_path}: no matching folded weights for {mod_name}")
                mod.weight.copy_(torch.from_numpy(w))
                if mod.bias is not None:
                    mod.bias.copy_(torch.from_numpy(weights[f"{mod_name}.bias"]))
                    loaded += 1
                loaded += 1

        sums: dict[int, list[Any]] = {}

        def _hook(conv: Any, _inp: Any, output: Any) -> None:
            x = output.double()
            acc = sums.setdefault(id(conv), [0.0, 0.0, 0])
            acc[0] = acc[0] + x.sum(dim=(0, 2, 3))
            acc[1] = acc[1] + (x * x).sum(dim=(0, 2, 3))
            acc[2] += x.shape[0] * x.shape[2] * x.shape[3]

        handles = [conv.register_forward_hook(_hook) for _, _, conv in bns]
        for i in range(0, len(calibration), 8):
            model(_to_tensor(calibration[i : i + 8], imgsz))
        for h in handles:
            h.remove()
        for bn, bias, conv in bns:
            s, sq, n = sums[id(conv)]
            mean = s / n
            var = (sq / n - mean * mean).clamp_min(1e-6)
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.copy_(mean.float() + bias)

        probe = _to_tensor(calibration[:1], imgsz)
        ours = model(probe)
        ours = (ours[0] if isinstance(ours, (tuple, list)) else ours).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ref = session.run(None, {session.get_inputs()[0].name: probe.numpy()})[0]
    diff = float(np.abs(ours - ref).max())
    model.names = dict(enumerate(names))
    setattr(model, "args", {"imgsz": int(probe.shape[-1])})  # noqa: B010 - mypy: Module attribute
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": model.float(), "ema": None, "optimizer": None, "epoch": -1, "train_args": {}},
        out,
    )
    return WarmstartResult(out, loaded, diff)
