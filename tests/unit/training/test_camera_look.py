"""CCTV-look degradation of training photos: each effect does what it says, and nothing moves."""

from __future__ import annotations

import numpy as np
import pytest

from training.camera_look import CameraLook, apply_look, draw_look, motion_kernel

NONE = CameraLook(blur_px=0, blur_angle_deg=0.0, gain=1.0, noise_sigma=0.0, jpeg_quality=100)


def _scene() -> np.ndarray:
    image = np.full((64, 64, 3), 100, np.uint8)
    image[28:36, 28:36] = 240  # a bright square: where it is must not change
    return image


def test_no_effect_is_identity() -> None:
    image = _scene()
    assert np.array_equal(apply_look(image, NONE, np.random.default_rng(0)), image)


def test_horizontal_motion_kernel_is_a_normalised_line() -> None:
    k = motion_kernel(5, 0.0)
    assert k.sum() == pytest.approx(1.0)
    assert np.count_nonzero(k[2]) == 5 and np.count_nonzero(k) == 5  # the middle row only


def test_blur_spreads_along_the_motion_only() -> None:
    look = CameraLook(blur_px=9, blur_angle_deg=0.0, gain=1.0, noise_sigma=0.0, jpeg_quality=100)
    out = apply_look(_scene(), look, np.random.default_rng(0))
    assert out[32, 25, 0] > 100  # smeared sideways, left of the square
    assert out[25, 32, 0] == 100  # not above it
    assert out[32, 29, 0] < 240  # the square's edge is diluted


def test_low_light_scales_brightness() -> None:
    look = CameraLook(blur_px=0, blur_angle_deg=0.0, gain=0.5, noise_sigma=0.0, jpeg_quality=100)
    out = apply_look(_scene(), look, np.random.default_rng(0))
    assert out[0, 0, 0] == 50 and out[32, 32, 0] == 120


def test_noise_and_jpeg_change_pixels_but_keep_the_square_in_place() -> None:
    look = CameraLook(blur_px=0, blur_angle_deg=0.0, gain=1.0, noise_sigma=8.0, jpeg_quality=20)
    out = apply_look(_scene(), look, np.random.default_rng(1))
    assert not np.array_equal(out, _scene())
    assert out[30:34, 30:34].mean() > 200 and out[0:8, 0:8].mean() < 130


def test_draws_are_reproducible_and_within_cctv_ranges() -> None:
    looks = [draw_look(np.random.default_rng(s)) for s in range(200)]
    assert looks[:5] == [draw_look(np.random.default_rng(s)) for s in range(5)]
    assert all(lk.blur_px in (0, 5, 7, 9, 11) and 0.3 <= lk.gain <= 1.0 for lk in looks)
    assert all(lk.jpeg_quality == 100 or 15 <= lk.jpeg_quality < 45 for lk in looks)
    assert any(lk.blur_px for lk in looks) and any(lk.gain < 1 for lk in looks)
