from __future__ import annotations

import socket
import uuid

import pytest
from minio import Minio

from serving.objects import (
    InvalidObjectKeyError,
    ObjectNotFoundError,
    ObjectStoreUnavailableError,
    content_key,
)
from serving.objects.s3 import S3ObjectStore

pytestmark = pytest.mark.integration


def _store(endpoint: str, bucket: str) -> S3ObjectStore:
    client = Minio(endpoint, access_key="test", secret_key="test", secure=False, region="us-east-1")
    return S3ObjectStore(client, bucket)


@pytest.fixture
def store(moto_endpoint: str) -> S3ObjectStore:
    s = _store(moto_endpoint, f"hz-{uuid.uuid4().hex[:12]}")
    s.ensure_bucket()
    s.ensure_bucket()  # idempotent
    return s


def test_put_get_stat_round_trip(store: S3ObjectStore) -> None:
    data = b"\xff\xd8 jpeg bytes"
    stored = store.put(data, content_type="image/jpeg")
    assert stored.key == content_key(data)
    assert store.get(stored.key) == data
    info = store.stat(stored.key)
    assert (info.size, info.content_type) == (len(data), "image/jpeg")
    store.ping()


def test_same_content_twice_keeps_the_first_object(store: S3ObjectStore) -> None:
    first = store.put(b"same", content_type="image/png")
    second = store.put(b"same", content_type="image/jpeg")
    assert second.key == first.key
    assert store.stat(first.key).content_type == "image/png"


def test_missing_key_and_bad_keys(store: S3ObjectStore) -> None:
    missing = content_key(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFoundError):
        store.get(missing)
    with pytest.raises(ObjectNotFoundError):
        store.stat(missing)
    with pytest.raises(InvalidObjectKeyError):
        store.put(b"x", content_type="text/plain", key="../../etc/passwd")


def test_delete_removes_the_object_and_repeats_quietly(store: S3ObjectStore) -> None:
    kept = store.put(b"evidence frame", content_type="image/jpeg")
    expired = store.put(b"expired frame", content_type="image/jpeg")
    store.delete(expired.key)
    assert not store.exists(expired.key) and store.exists(kept.key)
    store.delete(expired.key)  # an interrupted retention run repeats
    with pytest.raises(InvalidObjectKeyError):
        store.delete("../evidence")


def test_unreachable_store_fails_clearly() -> None:
    from serving_services import free_port

    client = Minio(
        f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", secure=False, region="us-east-1"
    )
    # minio retries connection errors a few times; keep the check bounded.
    store = S3ObjectStore(client, "hazardeye")
    with pytest.raises(ObjectStoreUnavailableError):
        store.put(b"photo", content_type="image/jpeg")


def test_a_fresh_install_gets_its_bucket_without_anyone_making_it(moto_endpoint: str) -> None:
    from serving.bootstrap import build_object_store
    from serving.settings import S3ObjectStoreSettings

    fresh = f"hz-fresh-{uuid.uuid4().hex[:10]}"
    settings = S3ObjectStoreSettings(
        kind="s3", endpoint=moto_endpoint, access_key="test", secret_key="test", bucket=fresh, secure=False,
        region="us-east-1",
    )  # fmt: skip
    build_object_store(settings)  # on start
    client = Minio(moto_endpoint, access_key="test", secret_key="test", secure=False, region="us-east-1")
    assert client.bucket_exists(fresh)

    # created at start was not possible (S3 down then): the first upload makes it, and /health's ping too
    later = _store(moto_endpoint, f"hz-late-{uuid.uuid4().hex[:10]}")
    stored = later.put(b"\xff\xd8 first photo", content_type="image/jpeg")
    assert later.get(stored.key) == b"\xff\xd8 first photo"
    pinged = _store(moto_endpoint, f"hz-ping-{uuid.uuid4().hex[:10]}")
    pinged.ping()
    pinged.put(b"\xff\xd8 x", content_type="image/jpeg")


@pytest.mark.timeout(30)  # the SDK's own default would hang here for 5 minutes per attempt
def test_an_endpoint_that_accepts_and_never_answers_fails_within_the_configured_timeout() -> None:
    from serving.bootstrap import build_object_store
    from serving.settings import S3ObjectStoreSettings

    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, accepts (backlog), never replies
        port = silent.getsockname()[1]
        settings = S3ObjectStoreSettings(
            kind="s3", endpoint=f"127.0.0.1:{port}", access_key="a", secret_key="b", region="us-east-1",
            timeout_s=0.5, retries=1,
        )  # fmt: skip
        store = build_object_store(settings)  # the bucket check at start times out and is logged
        with pytest.raises(ObjectStoreUnavailableError):
            store.put(b"\xff\xd8 photo", content_type="image/jpeg")
