from __future__ import annotations

import numpy as np
import pytest

from vision.letterbox import PAD_VALUE, letterbox, letterbox_batch, plan, to_input_tensor


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


# --- rect layout (dynamic-shape models): minimal stride-aligned input, batches padded to the largest ---

RECT_SIZES = [(333, 500), (500, 333), (320, 320), (1080, 1920), (7, 1000), (375, 500), (1000, 3), (64, 48)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((333, 500), (224, 320)),
        ((500, 333), (320, 224)),
        ((375, 500), (256, 320)),
        ((1080, 1920), (192, 320)),
        ((320, 320), (320, 320)),
        ((7, 1000), (32, 320)),
        ((64, 48), (320, 256)),
    ],
)
def test_rect_canvas_is_the_minimal_stride_multiple(
    source: tuple[int, int], expected: tuple[int, int]
) -> None:
    canvas, _ = letterbox(np.zeros((*source, 3), np.uint8), (320, 320), stride=32)
    assert canvas.shape[:2] == expected


@pytest.mark.parametrize("seed", range(5))
def test_rect_canvas_matches_ultralytics_rule_on_random_sizes(seed: int) -> None:
    # ultralytics' LetterBox(auto=True): resized size + (padding to the square mod stride).
    rng = np.random.default_rng(seed)
    for height, width in rng.integers(1, 4000, (200, 2)).tolist():
        placement = plan((height, width), (320, 320), 32)
        scale = min(320 / height, 320 / width)
        new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
        assert placement.resized == (new_h, new_w)
        assert placement.canvas == (new_h + (320 - new_h) % 32, new_w + (320 - new_w) % 32)


@pytest.mark.parametrize(("height", "width"), RECT_SIZES)
def test_rect_box_mapping_round_trips_exactly(height: int, width: int) -> None:
    rng = np.random.default_rng(height + 7 * width)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    canvas, transform = letterbox(image, (320, 320), stride=32)
    x1, y1 = rng.uniform(0, width, 50), rng.uniform(0, height, 50)
    boxes = np.stack([x1, y1, rng.uniform(x1, width), rng.uniform(y1, height)], axis=1).astype(np.float32)
    inside = transform.to_input(boxes)
    # Every source box lands inside the canvas, and maps back exactly.
    assert (inside[:, [0, 2]] >= 0).all() and (inside[:, [0, 2]] <= canvas.shape[1] + 1e-3).all()
    assert (inside[:, [1, 3]] >= 0).all() and (inside[:, [1, 3]] <= canvas.shape[0] + 1e-3).all()
    np.testing.assert_allclose(transform.to_source(inside), boxes, atol=1e-3)


def test_rect_content_is_centred_in_its_own_rect() -> None:
    image = np.full((100, 200, 3), 7, dtype=np.uint8)  # -> 160x320 resized, rect 160x320: no padding
    canvas, transform = letterbox(image, (320, 320), stride=32)
    assert canvas.shape == (160, 320, 3) and (transform.pad_x, transform.pad_y) == (0, 0)
    assert (canvas == 7).all()
    canvas, transform = letterbox(np.full((90, 200, 3), 7, np.uint8), (320, 320), stride=32)
    assert canvas.shape == (160, 320, 3) and transform.pad_y == 8  # 144 rows of image, 8 + 8 padding
    assert (canvas[:8] == PAD_VALUE).all() and (canvas[-8:] == PAD_VALUE).all() and (canvas[8:152] == 7).all()


def test_batch_pads_every_image_to_the_largest_rect_without_moving_it() -> None:
    rng = np.random.default_rng(3)
    images = [
        rng.integers(0, 255, (*size, 3), dtype=np.uint8) for size in [(333, 500), (375, 500), (500, 333)]
    ]
    canvases, transforms = letterbox_batch(images, (320, 320), stride=32)
    assert {canvas.shape for canvas in canvases} == {(320, 320, 3)}  # max of 224x320, 256x320, 320x224
    for image, canvas, transform in zip(images, canvases, transforms, strict=True):
        alone, alone_transform = letterbox(image, (320, 320), stride=32)
        assert transform == alone_transform  # same placement: boxes map back identically
        height, width = alone.shape[:2]
        np.testing.assert_array_equal(canvas[:height, :width], alone)
        assert (canvas[height:] == PAD_VALUE).all() and (canvas[:, width:] == PAD_VALUE).all()


def test_same_shape_batch_is_the_images_own_rect() -> None:
    images = [np.zeros((333, 500, 3), np.uint8), np.zeros((330, 500, 3), np.uint8)]
    canvases, _ = letterbox_batch(images, (320, 320), stride=32)
    assert [canvas.shape for canvas in canvases] == [(224, 320, 3), (224, 320, 3)]


def test_square_batch_is_the_full_input_size() -> None:
    canvases, transforms = letterbox_batch([np.zeros((333, 500, 3), np.uint8)], (320, 320))
    assert canvases[0].shape == (320, 320, 3) and transforms[0].pad_y == 53


def test_canvas_smaller_than_the_image_rect_is_refused() -> None:
    with pytest.raises(ValueError, match="smaller than the image's own"):
        letterbox(np.zeros((333, 500, 3), np.uint8), (320, 320), stride=32, canvas_size=(192, 320))


def test_input_tensor_equals_the_plain_numpy_formulation() -> None:
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, (224, 320, 3), dtype=np.uint8) for _ in range(3)]
    expected = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(to_input_tensor(images), expected, rtol=1e-6)
    assert to_input_tensor(images).flags.c_contiguous


def test_input_tensor_refuses_mixed_shapes() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        to_input_tensor([np.zeros((32, 32, 3), np.uint8), np.zeros((64, 32, 3), np.uint8)])


# Boundaries and messages pinned by hand (mutation testing found them unpinned).


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((0, 5, 3), "cannot letterbox an empty image of shape (0, 5, 3)"),
        ((5, 0, 3), "cannot letterbox an empty image of shape (5, 0, 3)"),
        ((5,), "cannot letterbox an empty image of shape (5,)"),
    ],
)
def test_an_empty_or_flat_image_is_refused_with_its_shape(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError) as error:
        letterbox(np.zeros(shape, np.uint8), (32, 32))
    assert str(error.value) == message


def test_a_one_pixel_image_and_a_grey_image_are_letterboxed() -> None:
    dot, transform = letterbox(np.full((1, 1, 3), 9, np.uint8), (32, 32))
    assert dot.shape == (32, 32, 3) and (dot == 9).all()  # scaled up to fill the whole input
    assert transform.scale == 32.0
    grey, _ = letterbox(np.full((10, 20), 5, np.uint8), (32, 32))
    assert grey.shape == (32, 32)
    assert (grey[:8] == PAD_VALUE).all() and (grey[8:24] == 5).all() and (grey[24:] == PAD_VALUE).all()


def test_a_tall_image_is_centred_left_to_right() -> None:
    image = np.full((200, 100, 3), 7, dtype=np.uint8)
    canvas, transform = letterbox(image, (320, 320))
    assert (transform.pad_x, transform.pad_y) == (80, 0)
    assert (canvas[:, :80] == PAD_VALUE).all() and (canvas[:, 80:240] == 7).all()
    assert (canvas[:, 240:] == PAD_VALUE).all()


@pytest.mark.parametrize(("size", "message"), [((0, 5), "(0, 5)"), ((5, 0), "(5, 0)"), ((-1, 5), "(-1, 5)")])
def test_plan_refuses_an_empty_source(size: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError) as error:
        plan(size, (32, 32))
    assert str(error.value) == f"cannot letterbox an empty image of shape {message}"


def test_plan_of_a_one_pixel_source_fills_the_input() -> None:
    placement = plan((1, 1), (32, 32), 32)
    assert (placement.scale, placement.resized, placement.canvas) == (32.0, (32, 32), (32, 32))


def test_a_batch_of_different_shapes_is_refused_naming_both() -> None:
    with pytest.raises(ValueError) as error:
        to_input_tensor([np.zeros((10, 10, 3), np.uint8), np.zeros((10, 20, 3), np.uint8)])
    assert str(error.value) == "batch images differ in shape: (10, 20) vs (10, 10)"


def test_box_mapping_returns_float32_whatever_it_is_given() -> None:
    _, transform = letterbox(np.zeros((100, 200, 3), np.uint8), (320, 320))
    forward = transform.to_input(np.array([[0.0, 0.0, 200.0, 100.0]]))  # float64 in
    assert forward.dtype == np.float32
    np.testing.assert_array_equal(forward, [[0, 80, 320, 240]])
    back = transform.to_source(np.array([[0.0, 80.0, 320.0, 240.0]]))
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, [[0, 0, 200, 100]])
