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
import warnings
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from vision.jpeg_header import JPEG_SOI, jpeg_header

BgrImage = npt.NDArray[np.uint8]


class ImageError(ValueError):
    """An input that cannot become a BGR image; the message names the file or source."""


def decode_image(data: bytes, *, source: str, max_pixels: int) -> BgrImage:
    """Decode encoded image bytes (JPEG, PNG, WebP, TIFF, ...) into a BGR uint8 array."""
    if not data:
        raise ImageError(f"{source}: empty input (0 bytes)")
    fast = _decode_plain_jpeg(data, source=source, max_pixels=max_pixels)
    if fast is not None:
        return fast
    return _decode(io.BytesIO(data), source=source, max_pixels=max_pixels)


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
            image.load()
            oriented = ImageOps.exif_transpose(image)
            return _to_bgr(oriented if oriented is not None else image)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Pillow reports truncated or corrupt pixel data here, after the header parsed fine.
            raise ImageError(f"{source}: corrupt or truncated image data ({_one_line(exc)})") from exc


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
