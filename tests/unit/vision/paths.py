"""Where the shipped models and the Public Domain hardhat fixtures live."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODELS_DIR = ROOT / "models"
HARDHAT = ROOT / "tests" / "fixtures" / "hardhat"
