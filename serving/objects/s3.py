"""MinIO / S3 object store through the minio SDK (production profile).

S3 PUTs are atomic and durable once acknowledged; the store checks for an existing key first so
re-uploads of the same content cost one HEAD instead of a second upload.
"""

from __future__ import annotations

import io
import os

import certifi
import urllib3
from minio import Minio
from minio.error import S3Error
from urllib3.exceptions import HTTPError
from urllib3.util import Retry, Timeout

from serving.objects.keys import content_key, validate_key
from serving.objects.port import ObjectNotFoundError, ObjectStoreUnavailableError, StoredObject

_MISSING = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
_NO_BUCKET = "NoSuchBucket"


def bounded_http_client(timeout_s: float, retries: int) -> urllib3.PoolManager:
    """The minio SDK's own pool, with each connect/read bounded by ``timeout_s`` and fewer retries.

    Worst case for one call is about ``(retries + 1) * timeout_s``; then the caller sees
    ``ObjectStoreUnavailableError`` (503 to an uploader, a failed analysis the retry sweep picks up).
    """
    return urllib3.PoolManager(
        timeout=Timeout(connect=min(timeout_s, 5.0), read=timeout_s),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class S3ObjectStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def ensure_bucket(self) -> None:
        try:
            if not self._client.bucket_exists(self._bucket):
                self._client.make_bucket(self._bucket)
        except S3Error as exc:
            if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise ObjectStoreUnavailableError(f"bucket {self._bucket}: {exc.code}") from exc
        except HTTPError as exc:
            raise ObjectStoreUnavailableError(f"object store unreachable: {exc}") from exc

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject:
        """Store ``data``; a missing bucket (a fresh install, or deleted under us) is created first."""
        key = validate_key(key) if key is not None else content_key(data)
        for attempt in (1, 2):
            try:
                return self._put(data, content_type, key)
            except S3Error as exc:
                if exc.code != _NO_BUCKET or attempt == 2:
                    raise ObjectStoreUnavailableError(f"put {key}: {exc.code}") from exc
                self.ensure_bucket()
            except HTTPError as exc:
                raise ObjectStoreUnavailableError(f"put {key}: {exc}") from exc
        raise AssertionError("unreachable")

    def _put(self, data: bytes, content_type: str, key: str) -> StoredObject:
        try:
            self._client.stat_object(self._bucket, key)
            return self.stat(key)  # immutable: never overwrite an existing object
        except S3Error as exc:
            if exc.code not in _MISSING:
                raise
        self._client.put_object(
            self._bucket, key, io.BytesIO(data), length=len(data), content_type=content_type
        )
        return StoredObject(key=key, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        key = validate_key(key)
        try:
            response = self._client.get_object(self._bucket, key)
        except S3Error as exc:
            raise self._translate(key, exc) from exc
        except HTTPError as exc:
            raise ObjectStoreUnavailableError(f"get {key}: {exc}") from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def stat(self, key: str) -> StoredObject:
        key = validate_key(key)
        try:
            info = self._client.stat_object(self._bucket, key)
        except S3Error as exc:
            raise self._translate(key, exc) from exc
        except HTTPError as exc:
            raise ObjectStoreUnavailableError(f"stat {key}: {exc}") from exc
        return StoredObject(
            key=key, size=info.size or 0, content_type=info.content_type or "application/octet-stream"
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        key = validate_key(key)
        try:
            self._client.remove_object(self._bucket, key)  # S3 deletes are idempotent
        except S3Error as exc:
            translated = self._translate(key, exc)
            if not isinstance(translated, ObjectNotFoundError):
                raise translated from exc
        except HTTPError as exc:
            raise ObjectStoreUnavailableError(f"delete {key}: {exc}") from exc

    def ping(self) -> None:
        try:
            exists = self._client.bucket_exists(self._bucket)
        except (S3Error, HTTPError) as exc:
            raise ObjectStoreUnavailableError(f"object store unreachable: {exc}") from exc
        if not exists:
            self.ensure_bucket()  # a fresh install: the service makes its bucket, nobody has to

    @staticmethod
    def _translate(key: str, exc: S3Error) -> Exception:
        if exc.code in _MISSING:
            return ObjectNotFoundError(key)
        return ObjectStoreUnavailableError(f"{key}: {exc.code}")
