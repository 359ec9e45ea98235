"""Every reason the before/after matcher can give has Chinese words in the UI (serving/web/static/i18n.js):
the UI matches the server's English text with patterns, so a reworded reason must fail here, not go
untranslated in the field."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.unit.serving.hazard_api_support import fixture
from vision.matching import verify

I18N = Path(__file__).resolve().parents[3] / "serving" / "web" / "static" / "i18n.js"


def _patterns() -> list[re.Pattern[str]]:
    block = I18N.read_text().split("const REASONS_ZH = [", 1)[1].split("];", 1)[0]
    return [re.compile(p) for p in re.findall(r"\[/(\^.*?\$)/,", block)]


def _worded(reason: str) -> bool:
    return any(p.match(reason) for p in _patterns())


def test_the_reasons_of_real_comparisons_are_worded() -> None:
    image, box = fixture("hardhat_b")
    other, _ = fixture("corrosion_a")
    blank = np.full_like(image, 128)
    reasons = [
        *verify(image, image.copy(), box).reasons,  # identical
        *verify(image, blank, box).reasons,  # featureless
        *verify(image, other, box).reasons,  # another scene
    ]
    assert len(reasons) >= 3
    assert [r for r in reasons if not _worded(r)] == []


@pytest.mark.parametrize("reason", [
    "weak match: same-scene score 0.55 < 0.85 (20 inliers)",
    "after photo shows only 40% of the hazard box",
    "surroundings do not agree after registration (similarity 0.31)",
    "detector still finds the hazard (confidence 0.62)",
    "hazard region changed while its surroundings did not (change 0.55, difference ratio 3.10)",
    "hazard region looks unchanged (change 0.05, difference ratio 1.00)",
    "hazard region change is ambiguous (change 0.20, difference ratio 1.50)",
    "only the first 24 of 30 detections were checked",
    "before photo unavailable: object not found",
    "no before photo with a hazard box to compare with",
])  # fmt: skip
def test_every_reason_template_is_worded(reason: str) -> None:
    assert _worded(reason)
