"""Full-resolution NCC refinement: accuracy on synthetic warps of fixture photos, and its building blocks."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from tests.unit.vision.test_matching import corner_error, homography, load, warp
from vision.matching import verify
from vision.matching_refine import RefineConfig, refine_homography
from vision.matching_registration import (
    RegistrationConfig,
    _mutual_ratio_matches,
    _mutual_ratio_unit,
    _root_sift,
    register,
)

Image = npt.NDArray[np.uint8]


def gray(image: Image) -> Image:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)


def grid_seeds(shape: tuple[int, ...], step: int = 24) -> npt.NDArray[np.float64]:
    ys, xs = np.mgrid[step : shape[0] - step : step, step : shape[1] - step : step]
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)


@pytest.mark.parametrize("name", ["hardhat_b", "corrosion_a", "corrosion_b"])
def test_refinement_pulls_a_few_pixels_off_model_back_to_the_truth(name: str) -> None:
    before, box = load(name)
    h_true = homography(box, before.shape, 15.0, 1.2)
    after = warp(before, h_true)
    # The kind of error a coarse stage leaves: a 4 px shift and a 1.5 % scale error.
    off = np.array([[1.015, 0, 4.0], [0, 1.015, -3.0], [0, 0, 1]]) @ h_true
    assert corner_error(off, h_true, before.shape) > 6.0
    result = refine_homography(gray(before), gray(after), off, grid_seeds(before.shape), RefineConfig())
    assert result is not None and result.inliers >= 12
    assert corner_error(result.homography, h_true, before.shape) <= 1.0


def test_refinement_survives_blur_and_lighting_of_the_after_photo() -> None:
    before, box = load("corrosion_b")
    h_true = homography(box, before.shape, -10.0, 0.9)
    lut = np.clip((np.arange(256) / 255.0) ** 1.7 * 255, 0, 255).astype(np.uint8)
    dark = np.asarray(cv2.LUT(before, lut), np.uint8)
    after = np.asarray(cv2.GaussianBlur(warp(dark, h_true), (0, 0), 1.5), np.uint8)
    off = np.array([[1, 0, 3.0], [0, 1, 2.0], [0, 0, 1]]) @ h_true
    result = refine_homography(gray(before), gray(after), off, grid_seeds(before.shape), RefineConfig())
    assert result is not None
    assert corner_error(result.homography, h_true, before.shape) <= 1.5


def test_refinement_gives_up_on_too_few_seeds() -> None:
    before, box = load("hardhat_b")
    h = homography(box, before.shape, 5.0, 1.0)
    seeds = grid_seeds(before.shape)[:3]
    assert refine_homography(gray(before), gray(warp(before, h)), h, seeds, RefineConfig()) is None


@pytest.mark.parametrize(
    ("name", "angle", "scale"),
    [
        ("hardhat_b", 25.0, 1.8),
        ("hardhat_a", -20.0, 1.3),
        ("corrosion_a", 12.0, 0.7),
        ("corrosion_b", -28.0, 1.1),
    ],
)
def test_two_stage_registration_is_sub_pixel_on_known_warps(name: str, angle: float, scale: float) -> None:
    before, box = load(name)
    h_true = homography(box, before.shape, angle, scale)
    reg = register(before, warp(before, h_true), RegistrationConfig())
    assert reg.homography is not None and reg.refined_points >= 12
    assert corner_error(reg.homography, h_true, before.shape) <= 1.5
    assert "ncc_refine" in reg.method


def test_refinement_beats_the_coarse_stage_alone() -> None:
    errors = {True: [], False: []}  # type: dict[bool, list[float]]
    for name, angle, scale in [
        ("hardhat_b", 20.0, 1.5),
        ("corrosion_a", -15.0, 0.8),
        ("corrosion_b", 8.0, 1.9),
    ]:
        before, box = load(name)
        h_true = homography(box, before.shape, angle, scale)
        after = warp(before, h_true)
        for enabled in (True, False):
            config = RegistrationConfig(max_side=240, refine=RefineConfig(enabled=enabled))
            reg = register(before, after, config)
            assert reg.homography is not None
            errors[enabled].append(corner_error(reg.homography, h_true, before.shape))
    assert max(errors[True]) <= 1.5
    assert np.mean(errors[True]) < 0.5 * np.mean(errors[False])


def test_verify_reports_refined_points() -> None:
    before, box = load("corrosion_a")
    result = verify(before, warp(before, homography(box, before.shape, 10.0, 1.2)), box)
    assert result.registration is not None and result.registration.refined_points >= 12


def test_one_product_mutual_ratio_equals_two_brute_force_passes() -> None:
    rng = np.random.default_rng(3)
    desc_b = rng.gamma(1.0, 10.0, (300, 128)).astype(np.float32)
    # Half of the after descriptors are noisy copies of before ones: real matches to find.
    copies = desc_b[rng.permutation(300)[:150]] * rng.uniform(0.8, 1.2, (150, 128)).astype(np.float32)
    desc_a = np.vstack([copies, rng.gamma(1.0, 10.0, (150, 128)).astype(np.float32)])
    root_b, root_a = _root_sift(desc_b), _root_sift(desc_a)
    fast = _mutual_ratio_unit(root_b, root_a, 0.8)
    reference = _mutual_ratio_matches(root_b, root_a, 0.8, cv2.NORM_L2)
    assert len(fast) > 50
    assert sorted(fast) == sorted(reference)
