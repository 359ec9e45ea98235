"""Suite-wide: the tests run the FP32 models whatever CPU they run on.

``precision: auto`` serves a model's INT8 variant on CPUs with VNNI / AMX. The suite's pinned detections and
figures were measured on FP32 (e.g. the face-blurring test's 7 of 9 heads is exactly FP32's count; INT8
blurs 6), so without this a VNNI machine would run another model than the one the pins describe. INT8 is
tested where a test asks for it: ``precision="int8"`` or ``flags=`` given to ``ModelRegistry``
(tests/unit/vision/test_registry_precision.py, test_int8_same_boxes.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _fp32_models_by_default() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAZARDEYE_VISION__PRECISION", "fp32")  # Settings() and the processes tests start
        patch.setattr("vision.registry.cpu_flags", frozenset)  # explicit VisionSettings / ModelRegistry
        yield
