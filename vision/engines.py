"""Inference engines behind the detector: onnxruntime (always present) and OpenVINO (optional).

Both read the same ONNX file and are asked the same few things: the graph's inputs and outputs, the
export's metadata (the stride), and one run of an NCHW float32 tensor. Which is faster on a given CPU is
measured (``bench/bench_inference.py --engines``), not assumed; ``default_engine()`` picks the one that
measured faster here when it is installed.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

EngineName = Literal["onnxruntime", "openvino"]
ENGINES: tuple[EngineName, ...] = ("onnxruntime", "openvino")
# Preferred first; onnxruntime silently skips providers it was not built with, we filter explicitly.
PROVIDER_PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
Dim = int | str | None  # a fixed size, or a dynamic one (its name, or None)


class ModelError(ValueError):
    """A model file that cannot be used: missing, corrupt, wrong checksum or unexpected outputs, or an
    engine asked for that is not installed."""


@dataclass(frozen=True, slots=True)
class TensorSpec:
    name: str
    shape: list[Dim]


class InferenceEngine(Protocol):
    name: EngineName

    @property
    def inputs(self) -> list[TensorSpec]: ...

    @property
    def outputs(self) -> list[TensorSpec]: ...

    @property
    def metadata(self) -> Mapping[str, str]: ...

    @property
    def providers(self) -> list[str]: ...

    def run(self, input_name: str, tensor: npt.NDArray[np.float32]) -> npt.NDArray[Any]: ...


def make_session(
    model_path: Path, intra_op_threads: int | None = None, *, allow_spinning: bool = False
) -> ort.InferenceSession:
    """An inference session with deliberate options (measured in bench/bench_inference.py):
    - full graph optimisation (fusions + NCHWc conv layouts: the biggest single win on CPU);
    - sequential execution: one model, one stream of batches; parallel operator scheduling only adds
      contention on a YOLO graph that is a chain;
    - an explicit intra-op thread count when given, so several detectors do not oversubscribe cores;
    - no spinning: ORT's workers busy-wait between operators by default, which on cores shared with
      camera decoding, the web server or other workers steals the CPU the model itself needs (spinning
      made the raw session 2.3x slower on a loaded 2-core machine: ``bench_inference.py --options``);
    - the CPU memory arena stays on: buffers are reused across runs of the same shapes."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = True
    if intra_op_threads is not None:
        options.intra_op_num_threads = intra_op_threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
    options.log_severity_level = 3
    available = set(ort.get_available_providers())
    # On a CPU-only onnxruntime every provider list (even unavailable ones, which it skips) means CPU, so
    # these two lines' mutants survive here; the CUDA choice is exercised on a GPU (scripts/gpu-bench).
    providers = [p for p in PROVIDER_PREFERENCE if p in available]  # pragma: no mutate
    path = str(model_path)
    try:
        session = ort.InferenceSession(path, sess_options=options, providers=providers)  # pragma: no mutate
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"{model_path}: cannot load ONNX model ({str(exc).splitlines()[0]})") from exc
    return session


class OnnxRuntimeEngine:
    name: EngineName = "onnxruntime"

    def __init__(self, model_path: Path, threads: int | None = None, *, allow_spinning: bool = False) -> None:
        self.session = make_session(model_path, threads, allow_spinning=allow_spinning)

    @property
    def inputs(self) -> list[TensorSpec]:
        return [TensorSpec(i.name, list(i.shape)) for i in self.session.get_inputs()]

    @property
    def outputs(self) -> list[TensorSpec]:
        return [TensorSpec(o.name, list(o.shape)) for o in self.session.get_outputs()]

    @property
    def metadata(self) -> Mapping[str, str]:
        return dict(self.session.get_modelmeta().custom_metadata_map)

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def run(self, input_name: str, tensor: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
        output: npt.NDArray[Any] = self.session.run(None, {input_name: tensor})[0]
        return output


class OpenVinoEngine:
    """OpenVINO on the CPU, dynamic shapes kept (one compiled model serves every rect), latency hint.

    An infer request is not thread-safe, so each calling thread gets its own (the compiled model is
    shared), which keeps the detector's promise that ``detect`` may be called from several threads."""

    name: EngineName = "openvino"

    def __init__(self, model_path: Path, threads: int | None = None) -> None:
        if not openvino_installed():
            raise ModelError("the openvino engine is not installed (pip install 'hazardeye[openvino]')")
        import openvino as ov

        core = ov.Core()
        try:
            self._model = core.read_model(str(model_path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses with multi-line reports
            raise ModelError(f"{model_path}: cannot load ONNX model ({str(exc).splitlines()[0]})") from exc
        # f32: on CPUs with AVX-512 BF16 / AMX OpenVINO would otherwise compute an FP32 model in bfloat16,
        # which moves confidences by ~0.005 (a backend must not change detections beyond rounding).
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = core.compile_model(self._model, "CPU", config)
        self._local = threading.local()

    @staticmethod
    def _spec(port: Any) -> TensorSpec:
        shape = port.get_partial_shape()
        dims: list[Dim] = [d.get_length() if d.is_static else None for d in shape]
        return TensorSpec(port.get_any_name(), dims)

    @property
    def inputs(self) -> list[TensorSpec]:
        return [self._spec(port) for port in self._model.inputs]

    @property
    def outputs(self) -> list[TensorSpec]:
        return [self._spec(port) for port in self._model.outputs]

    @property
    def metadata(self) -> Mapping[str, str]:
        info = self._model.get_rt_info()
        if "framework" not in info:
            return {}
        return {key: self._model.get_rt_info(["framework", key]).astype(str) for key in info["framework"]}

    @property
    def providers(self) -> list[str]:
        return ["OpenVINO CPU"]

    def run(self, input_name: str, tensor: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        results = request.infer({input_name: tensor})
        # The request reuses its output buffer on the next run: copy before another call can overwrite.
        return np.array(results[self._compiled.outputs[0]], copy=True)


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def available_engines() -> list[EngineName]:
    return [name for name in ENGINES if name == "onnxruntime" or openvino_installed()]


def open_engine(
    name: EngineName, model_path: Path, threads: int | None = None, *, allow_spinning: bool = False
) -> InferenceEngine:
    if name == "onnxruntime":
        return OnnxRuntimeEngine(model_path, threads, allow_spinning=allow_spinning)
    if name == "openvino":
        return OpenVinoEngine(model_path, threads)
    raise ModelError(f"unknown inference engine {name!r} (known: {', '.join(ENGINES)})")
