"""A JPEG marker walk up to the scan data: size and EXIF orientation, without decoding a pixel.

It answers one question for ``vision.images``: may this JPEG go to OpenCV's decoder as is? ``None``
means "not a plain JPEG, ask Pillow": anything unusual (progressive-lossless, arithmetic, 12-bit, CMYK,
malformed segments, EXIF we cannot read, no end-of-image marker) is left to the slower, stricter path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"
_SOS = 0xDA
_APP1 = 0xE1
_PLAIN_SOF = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended, progressive (Huffman)
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True, slots=True)
class JpegHeader:
    width: int
    height: int
    orientation: int  # EXIF orientation, 1 (upright) when the file has none


def jpeg_header(data: bytes) -> JpegHeader | None:
    """Size and orientation of a complete, plain 8-bit grey/YCbCr JPEG; None for anything else."""
    if not data.startswith(JPEG_SOI) or not data.endswith(_JPEG_EOI):
        return None  # not a JPEG, or truncated (or trailing bytes): Pillow reports it precisely
    orientation, size = 1, None
    position, end = 2, len(data)
    while position + 4 <= end:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if length < 2 or len(segment) != length - 2:
            return None
        if marker == _SOS:
            return None if size is None else JpegHeader(size[0], size[1], orientation)
        if marker == _APP1 and segment.startswith(_EXIF_PREFIX):
            found = exif_orientation(segment[len(_EXIF_PREFIX) :])
            if found is None:
                return None
            orientation = found
        elif marker in _PLAIN_SOF:
            if len(segment) < 6 or segment[0] != 8 or segment[5] not in (1, 3):
                return None  # 12-bit samples, CMYK/YCCK: Pillow handles the colour conversion
            height, width = int.from_bytes(segment[1:3], "big"), int.from_bytes(segment[3:5], "big")
            if height == 0 or width == 0:
                return None  # height defined later by a DNL marker: rare, leave it to Pillow
            size = (width, height)
        elif marker in _OTHER_SOF:
            return None
        position += 2 + length
    return None


def exif_orientation(tiff: bytes) -> int | None:
    """The orientation tag of IFD0 in a TIFF-structured EXIF block: 1 if absent, None if unreadable."""
    if len(tiff) < 8:
        return None
    endian: Literal["little", "big"]
    if tiff[:2] == b"II":
        endian = "little"
    elif tiff[:2] == b"MM":
        endian = "big"
    else:
        return None
    ifd = int.from_bytes(tiff[4:8], endian)
    if ifd + 2 > len(tiff):
        return None
    count = int.from_bytes(tiff[ifd : ifd + 2], endian)
    for index in range(count):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(tiff):
            return None
        if int.from_bytes(tiff[entry : entry + 2], endian) == _ORIENTATION_TAG:
            # Type SHORT, count 1: the value sits in the first two bytes of the value field.
            return int.from_bytes(tiff[entry + 8 : entry + 10], endian)
    return 1
