from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from serving.objects import (
    InvalidObjectKeyError,
    ObjectNotFoundError,
    content_key,
    new_object_key,
    validate_key,
)
from serving.objects.local import LocalObjectStore


def test_put_is_content_addressed_and_readable(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    stored = store.put(b"photo bytes", content_type="image/jpeg")
    assert stored.key == hashlib.sha256(b"photo bytes").hexdigest()
    assert store.get(stored.key) == b"photo bytes"
    assert store.stat(stored.key).content_type == "image/jpeg"
    assert store.stat(stored.key).size == len(b"photo bytes")
    # No temp files are left beside the objects after a successful put.
    leftovers = [p.name for p in (tmp_path / "objects").rglob(".tmp-*")]
    assert leftovers == []


def test_put_same_content_twice_is_idempotent_and_immutable(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    first = store.put(b"abc", content_type="image/png")
    path = tmp_path / first.key[:2] / first.key
    mtime = path.stat().st_mtime_ns
    second = store.put(b"abc", content_type="image/jpeg")
    assert second.key == first.key
    assert second.content_type == "image/png"  # the first write wins; objects never change
    assert path.stat().st_mtime_ns == mtime


def test_uuid_keys_are_accepted(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    key = new_object_key()
    store.put(b"crop", content_type="image/jpeg", key=key)
    assert store.exists(key)
    assert store.get(key) == b"crop"


def test_missing_key_raises_not_found(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    missing = content_key(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFoundError):
        store.get(missing)
    with pytest.raises(ObjectNotFoundError):
        store.stat(missing)


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "a/b", "/abs", "..", "", "ABCDEF" * 11, "x" * 64, content_key(b"x") + "/.."],
)
def test_paths_and_odd_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(tmp_path / "root")
    with pytest.raises(InvalidObjectKeyError):
        store.put(b"data", content_type="text/plain", key=key)
    with pytest.raises(InvalidObjectKeyError):
        store.get(key)
    assert not (tmp_path / "etc").exists()


def test_validate_key_accepts_sha256_and_uuid() -> None:
    sha = content_key(b"")
    assert validate_key(sha) == sha
    uid = new_object_key()
    assert validate_key(uid) == uid


def test_ping_fails_when_root_is_not_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from serving.objects import ObjectStoreUnavailableError

    with pytest.raises(ObjectStoreUnavailableError):
        LocalObjectStore(blocker / "objects").ping()
    LocalObjectStore(tmp_path / "ok").ping()


def test_delete_removes_the_object_and_its_type_and_repeats_quietly(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    kept = store.put(b"evidence frame", content_type="image/jpeg")
    expired = store.put(b"expired frame", content_type="image/jpeg")
    store.delete(expired.key)
    assert not store.exists(expired.key) and store.exists(kept.key)
    assert not list(tmp_path.rglob(f"{expired.key}*"))  # no type sidecar left behind
    store.delete(expired.key)  # an interrupted retention run repeats
    with pytest.raises(InvalidObjectKeyError):
        store.delete("../" + kept.key)
    assert store.put(b"expired frame", content_type="image/png").content_type == "image/png"  # storable again


def test_a_link_planted_under_a_valid_key_reads_as_missing(tmp_path: Path) -> None:
    from serving.objects.port import ObjectNotFoundError

    store = LocalObjectStore(tmp_path / "objects")
    secret = tmp_path / "secret.txt"
    secret.write_text("database password")
    key = "ab" + "0" * 62
    (tmp_path / "objects" / "ab").mkdir(parents=True)
    (tmp_path / "objects" / "ab" / key).symlink_to(secret)
    assert not store.exists(key)
    with pytest.raises(ObjectNotFoundError):
        store.get(key)
    with pytest.raises(ObjectNotFoundError):
        store.stat(key)
    # a linked fan-out folder is refused too
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ("cd" + "0" * 62)).write_text("not an object")
    (tmp_path / "objects" / "cd").symlink_to(elsewhere)
    assert not store.exists("cd" + "0" * 62)
    # storing real bytes under the key replaces the link, never writes through it
    data = b"\xff\xd8\xff real bytes"
    stored = store.put(data, content_type="image/jpeg", key=key)
    assert store.get(stored.key) == data and secret.read_text() == "database password"
