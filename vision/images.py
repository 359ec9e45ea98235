"""Image intake: bytes or files → HxWx3 BGR uint8, EXIF orientation applied, bombs refused up front.

Fast path: a plain 8-bit JPEG (what cameras and most phones send) whose header carries no EXIF rotation
is decoded by OpenCV straight into BGR, about twice as fast as Pillow + RGB→BGR. The header walk that
decides this also yields the size, so the pixel limit is still checked before any pixel is decoded.
Anything else (rotated, CMYK, 12-bit, truncated, PNG, TIFF, ...) takes the Pillow path.

Every failure is an ``ImageError`` whose message is one line naming the source, so callers that
process many images can report the bad one and carry on with the rest.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from vision.jpeg_header import JPEG_SOI, jpeg_header

BgrImage = npt.NDArray[np.uint8]

_ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


class ImageError(ValueError):
    """An input that cannot become a BGR image; the message names the file or source."""


@dataclass(frozen=True, slots=True)
class ScaledImage:
    """An image decoded at reduced size: ``image`` plus the oriented size of the full-resolution original."""

    image: BgrImage
    original_width: int
    original_height: int

    @property
    def scale_x(self) -> float:
        """Original pixels per decoded pixel, horizontally (1.0 when decoded at full size)."""
        return self.original_width / int(self.image.shape[1])

    @property
    def scale_y(self) -> float:
        return self.original_height / int(self.image.shape[0])


_DCT_REDUCTIONS = (
    (8, cv2.IMREAD_REDUCED_COLOR_8),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
)


def decode_image(data: bytes, *, source: str, max_pixels: int) -> BgrImage:
    """Decode encoded image bytes (JPEG, PNG, WebP, TIFF, ...) into a BGR uint8 array."""
    if not data:
        raise ImageError(f"{source}: empty input (0 bytes)")
    fast = _decode_plain_jpeg(data, source=source, max_pixels=max_pixels)
    if fast is not None:
        return fast
    return _decode(io.BytesIO(data), source=source, max_pixels=max_pixels)


def decode_scaled(data: bytes, *, source: str, max_pixels: int, max_side: int) -> ScaledImage:
    """Decode with the longer side at most ``max_side``: what a detector needs of a 50-megapixel photo.

    A JPEG is decoded straight at 1/2, 1/4 or 1/8 size by libjpeg's DCT scaling (the largest reduction
    that still leaves at least ``max_side``), so the full-size pixels are never in memory; the rest is
    then resized with area averaging. ``max_pixels`` still applies to the original's size.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    if not data:
        raise ImageError(f"{source}: empty input (0 bytes)")
    header = jpeg_header(data)
    if header is not None and header.orientation == 1:
        _check_pixels(header.width, header.height, source=source, max_pixels=max_pixels)
        reduction, flag = _dct_reduction(max(header.width, header.height), max_side)
        expected = (math.ceil(header.height / reduction), math.ceil(header.width / reduction))
        decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
        if decoded is not None:
            if decoded.shape[:2] != expected:
                raise ImageError(f"{source}: corrupt or truncated image data (JPEG decoder failed)")
            return ScaledImage(_fit(np.asarray(decoded, np.uint8), max_side), header.width, header.height)
    stream = io.BytesIO(data)
    image, width, height = _decode_pillow(stream, source=source, max_pixels=max_pixels, max_side=max_side)
    return ScaledImage(_fit(image, max_side), width, height)


def _dct_reduction(longer: int, max_side: int) -> tuple[int, int]:
    for reduction, flag in _DCT_REDUCTIONS:
        if math.ceil(longer / reduction) >= max_side:
            return reduction, flag
    return 1, cv2.IMREAD_COLOR


def _fit(image: npt.NDArray[np.uint8], max_side: int) -> BgrImage:
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return np.asarray(image, dtype=np.uint8)
    size = (max(1, round(width * max_side / longer)), max(1, round(height * max_side / longer)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_jpeg(image: BgrImage, quality: int = 90) -> bytes:
    """``image`` as JPEG bytes (annotated frames, crops, snapshots)."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError(f"could not encode a {image.shape} image as JPEG")
    return bytes(buffer.tobytes())


def read_image(path: Path, *, max_pixels: int) -> BgrImage:
    """Read an image file into a BGR uint8 array; see ``decode_image``."""
    source = str(path)
    try:
        if path.stat().st_size == 0:
            raise ImageError(f"{source}: empty file (0 bytes)")
        with path.open("rb") as stream:
            if stream.read(2) == JPEG_SOI:  # JPEGs are read whole for the fast path; others stream
                data = JPEG_SOI + stream.read()
                return decode_image(data, source=source, max_pixels=max_pixels)
            stream.seek(0)
            return _decode(stream, source=source, max_pixels=max_pixels)
    except OSError as exc:  # missing file, directory, permission: not an image problem but still per-file
        raise ImageError(f"{source}: cannot read file ({exc.strerror or exc})") from exc


def _decode_plain_jpeg(data: bytes, *, source: str, max_pixels: int) -> BgrImage | None:
    """OpenCV decode for a plain JPEG; None when the header says the Pillow path must decide."""
    header = jpeg_header(data)
    if header is None or header.orientation != 1:
        return None
    _check_pixels(header.width, header.height, source=source, max_pixels=max_pixels)
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION  # orientation is known to be upright
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if decoded is None:  # OpenCV gave up (fatal libjpeg error, its own size cap): Pillow says precisely why
        return None
    if decoded.shape[:2] != (header.height, header.width):
        raise ImageError(f"{source}: corrupt or truncated image data (JPEG decoder failed)")
    return np.asarray(decoded, dtype=np.uint8)  # no copy: already uint8, this only narrows the type


def _check_pixels(width: int, height: int, *, source: str, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{source}: image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"{source}: image is {width}x{height} = {width * height} pixels, above the limit of {max_pixels}"
        )


def _decode(stream: BinaryIO, *, source: str, max_pixels: int) -> BgrImage:
    return _decode_pillow(stream, source=source, max_pixels=max_pixels, max_side=None)[0]


def _decode_pillow(
    stream: BinaryIO, *, source: str, max_pixels: int, max_side: int | None
) -> tuple[BgrImage, int, int]:
    """The Pillow path: the BGR image and the original's oriented width and height."""
    try:
        with warnings.catch_warnings():
            # Our own limit below is the policy; Pillow's global bomb warning would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream)  # lazy: parses the header only
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{source}: image too large ({_one_line(exc)})") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{source}: not a recognised image format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{source}: unreadable image header ({_one_line(exc)})") from exc

    with image:
        width, height = image.size
        _check_pixels(width, height, source=source, max_pixels=max_pixels)
        try:
            if max_side is not None and image.format == "JPEG":
                # DCT scaling for JPEGs Pillow decodes (rotated, CMYK): at least max_side stays.
                reduction, _ = _dct_reduction(max(width, height), max_side)
                image.draft(image.mode, (math.ceil(width / reduction), math.ceil(height / reduction)))
            image.load()
            quarter_turn = image.getexif().get(_ORIENTATION_TAG, 1) in _QUARTER_TURNS
            oriented = ImageOps.exif_transpose(image)
            bgr = _to_bgr(oriented if oriented is not None else image)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Pillow reports truncated or corrupt pixel data here, after the header parsed fine.
            raise ImageError(f"{source}: corrupt or truncated image data ({_one_line(exc)})") from exc
    return bgr, (height if quarter_turn else width), (width if quarter_turn else height)


def _to_bgr(image: Image.Image) -> BgrImage:
    mode = image.mode
    if mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        return _high_depth_gray_to_bgr(np.asarray(image))
    if mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (mode == "P" and "transparency" in image.info):
        # Transparent pixels carry arbitrary colour underneath; flatten onto white like a viewer does.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, rgba)
    rgb = np.asarray(image.convert("RGB") if image.mode != "RGB" else image)
    bgr: BgrImage = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8)
    return bgr


def _high_depth_gray_to_bgr(values: npt.NDArray[np.generic]) -> BgrImage:
    # 16-bit (or int32/float) grayscale: scale the full 16-bit range down instead of clipping at 255.
    array = values.astype(np.float32)
    if values.dtype.kind == "f":
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        scaled = (array - low) * (255.0 / (high - low)) if high > low else np.zeros_like(array)
    else:
        scaled = array / 257.0
    gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    bgr: BgrImage = np.asarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    return bgr


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
