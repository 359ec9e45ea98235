from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on the path
    sys.path.insert(0, str(ROOT))
