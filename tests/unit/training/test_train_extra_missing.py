"""Without the [train] extra, a training command names the extra to install instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# A Python that cannot import ultralytics or torch (as on an install without the [train] extra).
_BLOCKED = """
import importlib.abc, sys
class _NoTrainExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"ultralytics", "torch"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoTrainExtra())
sys.argv = ["hazardeye", *sys.argv[1:]]
from serving.cli.main import main
main()
"""


def _hazardeye_without_train_extra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKED, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_training_commands_name_the_extra(tmp_path: Path) -> None:
    images = ROOT / "tests" / "fixtures" / "hardhat" / "images"
    result = _hazardeye_without_train_extra("train-campaign", "ppe2", "--status", cwd=ROOT)
    assert result.returncode == 0, result.stderr  # reading progress needs no torch
    result = _hazardeye_without_train_extra("warmstart", str(ROOT / "models/ppe/1/model.onnx"), "--out",
                                            str(tmp_path / "w.pt"), "--calib", str(images), "--classes",
                                            "head,helmet,person", cwd=ROOT)  # fmt: skip
    assert result.returncode == 2
    assert "needs the [train] extra" in result.stderr and "pip install 'hazardeye[train]'" in result.stderr
    assert "Traceback" not in result.stderr
