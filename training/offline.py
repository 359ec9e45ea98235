"""Make ultralytics run fully offline: no hub sync, no weight/font downloads. Call before importing it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# check_det_dataset() calls check_font("Arial.ttf" / "Arial.Unicode.ttf"), which does an HTTP HEAD to
# GitHub whenever the font is not in ultralytics' config dir, even with YOLO_OFFLINE set. A local font
# under those names (matplotlib's bundled DejaVu Sans) answers it without any network access.
_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def _provide_fonts(config_dir: Path) -> None:
    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in _FONT_NAMES:
        target = config_dir / name
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)  # atomic: concurrent trainers never see a half-written font


def prepare_ultralytics() -> None:
    """Set the offline environment, disable analytics sync and provide fonts locally (idempotent)."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "True")
    from ultralytics import settings
    from ultralytics.utils import USER_CONFIG_DIR, patches

    settings.update({"sync": False})
    _provide_fonts(Path(USER_CONFIG_DIR))
    # Importing ultralytics patches PIL.Image.open process-wide: on an unidentified image it runs
    # check_requirements("pi-heif") (a pip install attempt) and then fails with ModuleNotFoundError, so a
    # garbage image crashes vision's reader instead of becoming a dataset issue. Marking the plugin as
    # registered turns the patch into a plain pass-through (vision decodes HEIC itself via pillow-heif).
    patches._pil_plugins_registered = True


def auto_device(requested: str = "auto") -> str:
    """``auto`` → ``"0"`` (first CUDA GPU) when torch sees one, else ``"cpu"``.

    Anything other than ``auto`` passes through unchanged.
    """
    if requested != "auto":
        return requested
    import torch

    return "0" if torch.cuda.is_available() else "cpu"
