"""Lossless metadata removal for JPEG: drop the segments that carry EXIF, XMP, comments and thumbnails.

The scan data and the tables it needs are copied byte for byte, so the stored evidence keeps the
uploader's exact pixels and no full-size decode or re-encode is needed (a 50-megapixel photo took 16 s
and 600 MB to re-encode). Kept: JFIF's header without its thumbnail, ICC colour profiles (a phone's
Display P3 photo looks wrong without one) and Adobe's colour-transform flag. The display orientation
survives as a one-tag EXIF block, so the stored photo still shows upright.
"""

from __future__ import annotations

_SOI = b"\xff\xd8"
_SOS = 0xDA
_APP0, _APP1, _APP2, _APP14, _COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JFIF = b"JFIF\x00"
_ICC = b"ICC_PROFILE\x00"
_ADOBE = b"Adobe"


class JpegStructureError(ValueError):
    """The segments before the scan do not parse."""


def strip_jpeg_metadata(data: bytes, orientation: int = 1) -> bytes:
    """``data`` without metadata segments; ``orientation`` (EXIF 1-8) is kept as the only EXIF tag."""
    if not data.startswith(_SOI):
        raise JpegStructureError("not a JPEG (no start-of-image marker)")
    if not 1 <= orientation <= 8:
        raise ValueError(f"EXIF orientation must be 1-8, got {orientation}")
    kept = [_SOI]
    orientation_block = _segment(_APP1, _orientation_exif(orientation)) if orientation != 1 else b""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise JpegStructureError(f"expected a marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            kept.append(data[position : position + 2])
            position += 2
            continue
        if marker == _SOS:
            after_jfif = 2 if len(kept) > 1 and kept[1].startswith(b"\xff\xe0") else 1
            kept.insert(after_jfif, orientation_block)
            kept.append(data[position:])  # the scan(s) and everything after, byte for byte
            return b"".join(kept)
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise JpegStructureError(f"segment at byte {position} runs past the end")
        payload = data[position + 4 : end]
        kept_segment = _keep(marker, payload, data[position:end])
        if kept_segment:
            kept.append(kept_segment)
        position = end
    raise JpegStructureError("no scan data (start-of-scan marker missing)")


def _keep(marker: int, payload: bytes, whole: bytes) -> bytes:
    if marker == _APP0:
        # JFIF header: version, units, densities (9 bytes after the identifier); thumbnail dropped.
        if payload.startswith(_JFIF) and len(payload) >= 14:
            return _segment(_APP0, payload[:12] + b"\x00\x00")
        return b""
    if marker == _APP2:
        return whole if payload.startswith(_ICC) else b""
    if marker == _APP14:
        return whole if payload.startswith(_ADOBE) else b""
    if 0xE0 <= marker <= 0xEF or marker == _COM:
        return b""
    return whole  # tables, frame header, restart interval: the image itself


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _orientation_exif(orientation: int) -> bytes:
    # Big-endian TIFF, one IFD with one entry: tag 0x0112 (Orientation), type SHORT, count 1.
    entry = (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
    entry += orientation.to_bytes(2, "big") + b"\x00\x00"
    header = b"Exif\x00\x00" + b"MM\x00\x2a" + (8).to_bytes(4, "big")
    return header + (1).to_bytes(2, "big") + entry + bytes(4)
