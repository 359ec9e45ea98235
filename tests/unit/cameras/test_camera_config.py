from __future__ import annotations

import json
from pathlib import Path

import pytest

from cameras.config import (
    CameraConfig,
    CameraConfigError,
    CaptureMode,
    Transport,
    load_cameras,
    parse_cameras,
)

SECRET = "Sup3r-Secret"
CAMERA = {
    "id": "tank-01",
    "name": "Tank farm north",
    "url": f"rtsp://admin:{SECRET}@10.0.0.5:554/Streaming/101",
    "zone": "tank-farm",
    "interval_s": 5,
    "models": ["ppe", "leak"],
    "polygons": [{"name": "hot-work", "points": [[0, 0], [100, 0], [100, 80]]}],
}


def test_yaml_and_json_files_load_to_the_same_frozen_config(tmp_path: Path) -> None:
    yaml_file = tmp_path / "cameras.yaml"
    yaml_file.write_text(
        "cameras:\n"
        "  - id: tank-01\n    name: Tank farm north\n"
        f"    url: rtsp://admin:{SECRET}@10.0.0.5:554/Streaming/101\n"
        "    zone: tank-farm\n    interval_s: 5\n    models: [ppe, leak]\n"
        "    polygons:\n      - name: hot-work\n        points: [[0, 0], [100, 0], [100, 80]]\n"
    )
    json_file = tmp_path / "cameras.json"
    json_file.write_text(json.dumps([CAMERA]))
    from_yaml, from_json = load_cameras(yaml_file), load_cameras(json_file)
    assert from_yaml == from_json
    camera = from_yaml[0]
    assert camera.transport is Transport.TCP and camera.mode is CaptureMode.AUTO and camera.enabled
    assert camera.models == ("ppe", "leak") and camera.polygons[0].points[2] == (100.0, 80.0)
    with pytest.raises(ValueError, match="frozen"):
        camera.interval_s = 1  # type: ignore[misc]


def test_auto_mode_picks_persistent_for_short_intervals() -> None:
    short = CameraConfig.model_validate(CAMERA)
    long = short.model_copy(update={"interval_s": 600})
    assert short.persistent and not long.persistent
    assert CameraConfig.model_validate({**CAMERA, "interval_s": 600, "mode": "persistent"}).persistent
    assert not CameraConfig.model_validate({**CAMERA, "mode": "on_demand"}).persistent


def test_repr_and_errors_never_show_the_password() -> None:
    camera = CameraConfig.model_validate(CAMERA)
    assert SECRET not in repr(camera) and SECRET not in str(camera)
    assert "***@10.0.0.5:554" in camera.safe_url
    with pytest.raises(CameraConfigError) as caught:
        parse_cameras([{**CAMERA, "interval_s": -1, "bogus": 1}])
    message = str(caught.value)
    assert SECRET not in message
    assert "cameras.0.interval_s" in message and "cameras.0.bogus" in message


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"url": "file:///etc/passwd"}, "url must start with"),
        ({"id": "bad id!"}, "cameras.0.id"),
        ({"transport": "sctp"}, "transport"),
        ({"polygons": [{"name": "z", "points": [[0, 0], [1, 1]]}]}, "points"),
        ({"polygons": [{"name": "z", "points": [[0, 0], [-5, 1], [3, 3]]}]}, "non-negative"),
    ],
)
def test_invalid_camera_fields_are_rejected(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(CameraConfigError, match=fragment):
        parse_cameras([{**CAMERA, **change}])


def test_duplicate_ids_and_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraConfigError, match="duplicate camera ids: tank-01"):
        parse_cameras([CAMERA, CAMERA])
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: [unclosed\n")
    with pytest.raises(CameraConfigError, match="not valid"):
        load_cameras(broken)
    with pytest.raises(CameraConfigError, match="cannot read"):
        load_cameras(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_cameras(empty) == ()
