from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.vision.paths import MODELS_DIR


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    """A private copy of ``ppe@1`` alone (the model these runtime tests pin) that a test may break."""
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR / "ppe" / "1", target / "ppe" / "1")
    return target
