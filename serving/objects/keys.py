"""Object keys: sha256 of the content or a random UUID, never a user-supplied path.

Only these two shapes are accepted, so a key can never contain ``/``, ``..`` or anything a
filesystem or S3 would interpret; that is what makes path traversal impossible by construction.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from serving.objects.port import InvalidObjectKeyError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_UUID_HEX = re.compile(r"[0-9a-f]{32}")


def content_key(data: bytes) -> str:
    """The content address of ``data``: lowercase hex sha256 (same bytes, same key → idempotent puts)."""
    return hashlib.sha256(data).hexdigest()


def new_object_key() -> str:
    """A fresh random key for objects that are not content-addressed (e.g. generated crops)."""
    return uuid.uuid4().hex


def validate_key(key: str) -> str:
    """Return ``key`` if it is a sha256 or UUID hex key; raise ``InvalidObjectKeyError`` otherwise."""
    if _SHA256.fullmatch(key) or _UUID_HEX.fullmatch(key):
        return key
    raise InvalidObjectKeyError(f"invalid object key {key[:80]!r}: expected a sha256 or UUID hex string")
