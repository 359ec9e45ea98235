"""The object store port: what the rest of serving needs from a blob store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ObjectStoreError(Exception):
    """Base class of object store failures."""


class ObjectNotFoundError(ObjectStoreError):
    """No object exists under the requested key."""


class InvalidObjectKeyError(ObjectStoreError, ValueError):
    """The key is not a sha256/UUID hex string (user-supplied paths are refused)."""


class ObjectStoreUnavailableError(ObjectStoreError):
    """The backend cannot be reached; callers must fail the request clearly (nothing was stored)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    content_type: str


class ObjectStore(Protocol):
    """Durable, immutable blobs. ``put`` returns only after the bytes are durably stored."""

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject:
        """Store ``data`` under ``key`` (default: its sha256). Storing the same key again is a no-op."""
        ...

    def get(self, key: str) -> bytes: ...

    def stat(self, key: str) -> StoredObject: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove an expired camera frame (retention only: evidence and photos are never deleted).

        Deleting a missing key is not an error, so an interrupted retention run can simply repeat.
        """
        ...

    def ping(self) -> None:
        """Raise ``ObjectStoreUnavailableError`` when the backend is not ready (readiness probe)."""
        ...
