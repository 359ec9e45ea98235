from __future__ import annotations

import numpy as np
import pytest

from vision.letterbox import PAD_VALUE, letterbox, to_input_tensor


@pytest.mark.parametrize(("height", "width"), [(333, 500), (500, 333), (320, 320), (1080, 1920), (7, 1000)])
def test_box_mapping_round_trips_exactly(height: int, width: int) -> None:
    rng = np.random.default_rng(height * width)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    _, transform = letterbox(image, (320, 320))
    x1 = rng.uniform(0, width - 2, 50)
    y1 = rng.uniform(0, height - 2, 50)
    boxes = np.stack(
        [x1, y1, x1 + rng.uniform(1, width - x1), y1 + rng.uniform(1, height - y1)], axis=1
    ).astype(np.float32)
    back = transform.to_source(transform.to_input(boxes))
    np.testing.assert_allclose(back, boxes, atol=1e-3)


def test_image_is_centred_on_grey_padding_and_keeps_aspect() -> None:
    image = np.full((100, 200, 3), 7, dtype=np.uint8)
    canvas, transform = letterbox(image, (320, 320))
    assert canvas.shape == (320, 320, 3)
    assert transform.scale == pytest.approx(1.6)
    assert (transform.pad_x, transform.pad_y) == (0, 80)
    assert (canvas[:80] == PAD_VALUE).all() and (canvas[-80:] == PAD_VALUE).all()
    assert (canvas[80:240] == 7).all()


def test_box_covering_the_whole_image_maps_to_the_content_area() -> None:
    _, transform = letterbox(np.zeros((100, 200, 3), np.uint8), (320, 320))
    inside = transform.to_input(np.array([[0, 0, 200, 100]], np.float32))
    np.testing.assert_allclose(inside, [[0, 80, 320, 240]])


def test_boxes_outside_the_image_are_clipped_back_into_it() -> None:
    _, transform = letterbox(np.zeros((100, 200, 3), np.uint8), (320, 320))
    back = transform.to_source(np.array([[-50, 0, 400, 320]], np.float32))
    np.testing.assert_allclose(back, [[0, 0, 200, 100]])


def test_input_tensor_is_rgb_nchw_unit_range() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    image[..., 0] = 255  # blue in BGR
    tensor = to_input_tensor([image, image])
    assert tensor.shape == (2, 3, 4, 4) and tensor.dtype == np.float32
    assert tensor[:, 2].min() == 1.0 and tensor[:, 0].max() == 0.0


def test_empty_image_is_refused() -> None:
    with pytest.raises(ValueError, match="empty image"):
        letterbox(np.zeros((0, 10, 3), np.uint8), (320, 320))
