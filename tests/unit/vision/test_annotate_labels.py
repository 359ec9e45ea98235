"""Annotated images in words, Chinese included, drawn with the font the project ships."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from serving.kind_labels import drawn_label, label_characters
from vision.annotate import LABEL_FONT, annotate
from vision.detections import Detections, Finding

HEAD = Detections(np.array([[200, 200, 260, 270]], np.float32), np.array([0.81], np.float32),
                  np.array([0], np.int64), ("head", "helmet"))  # fmt: skip
FINDING = Finding("ppe.no_helmet", 0.81, (200.0, 200.0, 260.0, 270.0))


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    return bytes(font.getmask(char))


def test_the_shipped_font_holds_every_character_of_the_chinese_labels() -> None:
    font = ImageFont.truetype(str(LABEL_FONT), 24)
    missing = _glyph(font, "龘")  # not in the subset: drawn as the font's empty "missing" glyph
    absent = [c for c in label_characters() if _glyph(font, c) == missing]
    assert absent == []
    assert "未戴安全帽" in "".join(drawn_label(k, "zh") for k in ("ppe.no_helmet",))


def test_chinese_labels_are_drawn_above_the_box_and_the_input_is_untouched() -> None:
    image = np.full((480, 640, 3), 90, np.uint8)
    zh = annotate(image, HEAD, [FINDING], lambda name: drawn_label(name, "zh"))
    en = annotate(image, HEAD, [FINDING], lambda name: drawn_label(name, "en"))
    assert (image == 90).all()
    assert zh.shape == image.shape and zh.dtype == np.uint8
    label_band = zh[150:200, 200:360]  # above the box: the label backgrounds and their white text
    assert (label_band == 255).all(axis=2).sum() > 40
    assert not np.array_equal(zh[150:200], en[150:200])  # other words, other pixels


@pytest.mark.parametrize(("name", "zh", "en"), [
    ("ppe.no_helmet", "未戴安全帽", "No helmet"),
    ("head", "头部", "head"),
    ("sensor.tier3", "气体浓度报警（3级）", "Gas reading, tier 3"),
    ("ppe.unknown", "ppe.unknown", "ppe.unknown"),
])  # fmt: skip
def test_labels_in_both_languages(name: str, zh: str, en: str) -> None:
    assert (drawn_label(name, "zh"), drawn_label(name, "en")) == (zh, en)
