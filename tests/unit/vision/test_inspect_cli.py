"""`hazardeye inspect` on committed Public Domain fixtures, through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.vision.paths import HARDHAT, ROOT

HAZARDEYE = str(Path(sys.executable).with_name("hazardeye"))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HAZARDEYE, "inspect", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_json_output_follows_the_contract() -> None:
    images = sorted(str(p) for p in (HARDHAT / "images").glob("*.jpg"))
    result = _run("--json", *images)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == images
    for line in lines:
        assert set(line) == {"image", "model", "detections", "findings"}
        assert line["model"] == "ppe@2"
        for detection in line["detections"]:
            assert set(detection) == {"label", "confidence", "box"}
            assert detection["label"] in {"head", "helmet", "person", "vest"}
            assert 0 < detection["confidence"] <= 1 and len(detection["box"]) == 4
        for finding in line["findings"]:
            assert set(finding) == {"kind", "confidence", "box"} and finding["kind"].startswith("ppe.")


def test_bad_images_are_reported_and_the_rest_still_processed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    good = str(HARDHAT / "images" / "004945.jpg")
    result = _run("--json", str(bad), good, str(empty), str(tmp_path / "missing.jpg"))
    assert result.returncode == 1
    assert [json.loads(line)["image"] for line in result.stdout.splitlines()] == [good]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3
    assert "bad.jpg" in errors[0] and "empty.png" in errors[1] and "missing.jpg" in errors[2]


def test_table_output_and_annotated_images(tmp_path: Path) -> None:
    out = tmp_path / "annotated"
    result = _run(str(HARDHAT / "images" / "004945.jpg"), "--save-annotated", str(out))
    assert result.returncode == 0, result.stderr
    assert "ppe@2" in result.stdout
    written = list(out.glob("*.jpg"))
    assert [p.name for p in written] == ["004945.annotated.jpg"] and written[0].stat().st_size > 1000


def test_unknown_model_is_a_clear_error() -> None:
    result = _run("--model", "nope", str(HARDHAT / "images" / "004945.jpg"))
    assert result.returncode == 2
    assert "no model named 'nope'" in result.stderr


def test_the_table_tells_images_of_one_deep_folder_apart_on_a_narrow_terminal(tmp_path: Path) -> None:
    deep = tmp_path / "plant-north" / "inspection-round-2026-12-02" / "unit-7-compressor-house"
    deep.mkdir(parents=True)
    for name in ("round-07-north-gate-camera.jpg", "round-07-north-gate-phone.jpg"):
        (deep / name).write_bytes((HARDHAT / "images" / "004945.jpg").read_bytes())
    result = _run(str(deep / "round-07-north-gate-camera.jpg"), str(deep / "round-07-north-gate-phone.jpg"),
                  env={"COLUMNS": "80"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "round-07-north-gate-camera.jpg" in result.stdout
    assert "round-07-north-gate-phone.jpg" in result.stdout
    assert "…" not in result.stdout  # nothing cut
    rows = [line for line in result.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert rows and all(len(line) <= 80 and line[-1] in "┓┃┩│┘" for line in rows)  # the right edge is there
