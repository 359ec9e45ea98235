"""``hazardeye verify``: JSON shape, exit codes, bad files, EXIF-rotated photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from serving.cli import verify_cmd
from vision.matching import hazard_classes_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:  # keeps "verify" a sub-command, as in the real CLI
        pass

    verify_cmd.register(app)
    return app


def box_arg(name: str) -> str:
    box = json.loads((FIXTURES / "boxes.json").read_text())[name]["box"]
    return ",".join(str(v) for v in box)


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    return result.exit_code, result.stdout


def rectified(tmp_path: Path, name: str) -> Path:
    """An after photo with the hazard inpainted away, from a rotated/zoomed viewpoint."""
    image = cv2.imread(str(FIXTURES / f"{name}.jpg"))
    x1, y1, x2, y2 = (round(float(v)) for v in box_arg(name).split(","))
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[y1:y2, x1:x2] = 255
    fixed = cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)
    m = cv2.getRotationMatrix2D(((x1 + x2) / 2, (y1 + y2) / 2), 10, 1.15)
    path = tmp_path / "after.jpg"
    cv2.imwrite(
        str(path), cv2.warpAffine(fixed, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)
    )
    return path


def test_resolved_json_and_exit_code(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "evidence.jpg"
    code, stdout = run(
        app,
        str(FIXTURES / "corrosion_b.jpg"),
        str(rectified(tmp_path, "corrosion_b")),
        "--box",
        box_arg("corrosion_b"),
        "--json",
        "--out",
        str(out),
    )
    report = json.loads(stdout)
    assert code == 0, report
    assert report["verdict"] == "resolved"
    assert set(report) >= {"verdict", "reasons", "scores", "homography", "inliers", "timings_ms"}
    assert np.array(report["homography"]).shape == (3, 3)
    assert report["inliers"] > 20 and 0.85 <= report["scores"]["same_scene"] <= 1.0
    assert report["timings_ms"]["total"] > 0
    evidence = cv2.imread(str(out))
    # 540 px of photos, then the caption band: a 36 px verdict line and 22 px per reason (at most 3).
    assert evidence is not None and evidence.shape[0] == 540 + 36 + 22 * min(3, len(report["reasons"]))


def test_not_resolved_exit_code_and_text(app: typer.Typer) -> None:
    photo = str(FIXTURES / "hardhat_b.jpg")
    code, stdout = run(app, photo, photo, "--box", box_arg("hardhat_b"))
    assert code == 1
    assert stdout.startswith("not_resolved:") and "identical" in stdout


def test_different_scene_exit_code(app: typer.Typer) -> None:
    code, stdout = run(
        app,
        str(FIXTURES / "hardhat_a.jpg"),
        str(FIXTURES / "corrosion_b.jpg"),
        "--box",
        box_arg("hardhat_a"),
        "--json",
    )
    assert code == 1 and json.loads(stdout)["verdict"] == "different_scene"


def test_exif_rotated_after_photo_is_oriented_first(app: typer.Typer, tmp_path: Path) -> None:
    # The phone stored the pixels sideways and says so in EXIF (orientation 6 = rotate 90 CW to view).
    upright = Image.open(FIXTURES / "corrosion_a.jpg")
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    after = tmp_path / "after_exif.jpg"
    sideways.save(after, quality=92, exif=exif)
    code, stdout = run(
        app, str(FIXTURES / "corrosion_a.jpg"), str(after), "--box", box_arg("corrosion_a"), "--json"
    )
    report = json.loads(stdout)
    assert code == 1 and report["verdict"] == "not_resolved", report
    if report["homography"] is None:
        # Oriented, it is the before photo again (up to JPEG noise); unoriented the shapes would differ.
        assert "identical" in report["reasons"][0]
    else:
        h = np.array(report["homography"])
        assert np.allclose(h[:2, :2], np.eye(2), atol=0.05)  # oriented: no 90 degree turn left to explain


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--box", "5000,5000,5100,5100"], "outside"),
        (["--box", "1,2,3"], "x1,y1,x2,y2"),
    ],
)
def test_bad_box_is_a_usage_error(app: typer.Typer, args: list[str], message: str) -> None:
    photo = str(FIXTURES / "hardhat_b.jpg")
    result = CliRunner().invoke(app, ["verify", photo, photo, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_unreadable_files_exit_2(app: typer.Typer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8not a jpeg")
    shutil.copy(FIXTURES / "hardhat_b.jpg", tmp_path / "before.jpg")
    for after in (broken, tmp_path / "missing.jpg"):
        code, stdout = run(
            app, str(tmp_path / "before.jpg"), str(after), "--box", box_arg("hardhat_b"), "--json"
        )
        assert code == 2
        report = json.loads(stdout)
        assert report["verdict"] is None and str(after) in report["error"]


def test_detector_recheck_uses_the_named_model(app: typer.Typer, tmp_path: Path) -> None:
    args = [str(FIXTURES / "corrosion_b.jpg"), str(rectified(tmp_path, "corrosion_b"))]
    code, stdout = run(app, *args, "--box", box_arg("corrosion_b"), "--json", "--model", "ppe")
    report = json.loads(stdout)
    assert code == 0 and report["model"] == "ppe@2", report
    # The re-check ran: both confidences are numbers (no head in a corroded pipe: about zero).
    assert report["scores"]["hazard_confidence_after"] is not None
    assert report["scores"]["hazard_confidence_before"] is not None
    assert report["refined_points"] >= 12 and "ncc_refine" in report["method"]


def test_default_model_is_the_ppe_model_and_can_be_switched_off(app: typer.Typer) -> None:
    photo = str(FIXTURES / "hardhat_a.jpg")
    other = str(FIXTURES / "corrosion_b.jpg")
    _, stdout = run(app, photo, other, "--box", box_arg("hardhat_a"), "--json")
    assert json.loads(stdout)["model"] == "ppe@2"
    _, stdout = run(app, photo, other, "--box", box_arg("hardhat_a"), "--json", "--no-detector")
    assert json.loads(stdout)["model"] is None


def test_unknown_model_exits_2(app: typer.Typer) -> None:
    photo = str(FIXTURES / "hardhat_b.jpg")
    code, stdout = run(app, photo, photo, "--box", box_arg("hardhat_b"), "--json", "--model", "nope")
    assert code == 2
    assert "nope" in json.loads(stdout)["error"]


def test_hazard_classes_come_from_the_model_card() -> None:
    assert hazard_classes_for(["head", "helmet", "person"]) == frozenset({"head"})
    assert hazard_classes_for(("leak", "flange")) == frozenset({"leak"})
    assert hazard_classes_for(["helmet"]) == frozenset()
