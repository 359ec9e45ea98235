"""Object store port (photos, snapshots, crops) and its adapters: a local folder and MinIO/S3."""

from serving.objects.keys import content_key, new_object_key, validate_key
from serving.objects.port import (
    InvalidObjectKeyError,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    ObjectStoreUnavailableError,
    StoredObject,
)

__all__ = [
    "InvalidObjectKeyError",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUnavailableError",
    "StoredObject",
    "content_key",
    "new_object_key",
    "validate_key",
]
