from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.vision.paths import MODELS_DIR


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped models folder that a test may break."""
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR / "ppe", target / "ppe")
    return target
