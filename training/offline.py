"""Make ultralytics run fully offline: no hub sync, no weight/font downloads. Call before importing it."""

from __future__ import annotations

import os


def prepare_ultralytics() -> None:
    """Set the offline environment and disable ultralytics' analytics sync (idempotent)."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "True")
    from ultralytics import settings

    settings.update({"sync": False})


def auto_device(requested: str = "auto") -> str:
    """``auto`` → ``"0"`` (first CUDA GPU) when torch sees one, else ``"cpu"``.

    Anything other than ``auto`` passes through unchanged.
    """
    if requested != "auto":
        return requested
    import torch

    return "0" if torch.cuda.is_available() else "cpu"
