"""Clean-picture calibration: thresholds from the highest clean scores plus the margin, never below the
card's, capped; held-out pictures checked against them; and the command on the shipped leak model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import training.cli_calibrate as cli_calibrate
from training.clean_calibration import PictureScores, calibrate
from vision.model_card import read_card

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "tests" / "fixtures" / "hardhat" / "images"


def test_thresholds_clear_the_highest_clean_score_by_the_margin() -> None:
    clean = [
        PictureScores("a.jpg", {"stain": 0.41, "corrosion": 0.10}),
        PictureScores("b.jpg", {"stain": 0.62}),
        PictureScores("c.jpg", {}),
    ]
    held_out = [
        PictureScores("d.jpg", {"stain": 0.639}),  # just under stain's 0.64
        PictureScores("e.jpg", {"corrosion": 0.25}),  # at corrosion's threshold: flagged
        PictureScores("f.jpg", {"leak": 0.99}),  # a class not calibrated is not looked at
    ]
    result = calibrate(clean, held_out, ["stain", "corrosion"], {"stain": 0.25, "corrosion": 0.25}, 0.02)
    # stain: 0.62 + 0.02; corrosion: 0.10 + 0.02 is below the card's 0.25, which stays.
    assert result.thresholds == {"stain": 0.64, "corrosion": 0.25}
    assert (result.calibration_pictures, result.held_out_pictures) == (3, 3)
    assert result.held_out_flagged == ("e.jpg",)
    point = result.operating_point("clean: x", "leak/stain")
    assert (point.met, point.result.negatives, point.result.false_alarm) == (False, 3, pytest.approx(1 / 3))


def test_thresholds_are_capped_and_calibration_needs_pictures() -> None:
    result = calibrate([PictureScores("a.jpg", {"leak": 0.985})], [], ["leak"], {}, 0.02)
    assert result.thresholds == {"leak": 0.99}
    assert result.operating_point("x", "leak").met
    with pytest.raises(ValueError, match="no calibration picture"):
        calibrate([], [], ["leak"], {}, 0.02)


def test_the_command_writes_thresholds_no_lower_than_the_cards(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("version")(lambda: None)  # a second command keeps "calibrate-clean" a named sub-command
    cli_calibrate.register(app)
    version = tmp_path / "leak" / "1"
    shutil.copytree(ROOT / "models" / "leak" / "1", version)
    before = read_card(version / "card.json")
    clean, held_out = tmp_path / "clean", tmp_path / "held"
    clean.mkdir(), held_out.mkdir()
    images = sorted(IMAGES.glob("*.jpg"))
    for image in images[:2]:
        shutil.copy(image, clean)
    for image in images[2:4]:
        shutil.copy(image, held_out)
    runner = CliRunner()
    args = ["calibrate-clean", str(version), "--clean", str(clean), "--held-out", str(held_out)]
    bad = runner.invoke(app, [*args, "--classes", "helmet"])
    assert bad.exit_code == 2 and "classes must be among the model's" in bad.output
    done = runner.invoke(app, [*args, "--classes", "stain,corrosion", "--write"])
    assert done.exit_code == 0, done.output
    after = read_card(version / "card.json")
    for name in ("stain", "corrosion"):
        assert before.thresholds[name] <= after.thresholds[name] <= 0.99
    assert after.thresholds["leak"] == before.thresholds["leak"]  # not asked for: untouched
    assert after.operating_point is not None
    where = f"{tmp_path.parent.name}/{tmp_path.name}"  # the folders' last three parts
    assert after.operating_point.dataset == f"clean real pictures: {where}/clean (held out: {where}/held)"
    assert after.sha256 == before.sha256
