"""Local-folder object store (embedded default).

Durability: each object is written to a temporary file in the destination folder, fsynced, then
atomically renamed into place and the folder is fsynced, so a crash never leaves a partial object
under a valid key and an accepted photo survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from serving.objects.keys import content_key, validate_key
from serving.objects.port import ObjectNotFoundError, ObjectStoreUnavailableError, StoredObject

_TYPE_SUFFIX = ".type"


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        key = validate_key(key)
        # Two-level fan-out keeps folders small with millions of photos.
        return self._root / key[:2] / key

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject:
        key = validate_key(key) if key is not None else content_key(data)
        path = self._path(key)
        if self.exists(key):
            return self.stat(key)  # immutable: the first write wins (a planted link is replaced)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The content type sidecar goes first, so a visible object always has its type.
        _atomic_write(path.with_name(key + _TYPE_SUFFIX), content_type.encode())
        _atomic_write(path, data)
        return StoredObject(key=key, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            fd = _open_no_links(self._root, path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            fd = _open_no_links(self._root, path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(key) from None
        try:
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        type_path = path.with_name(key + _TYPE_SUFFIX)
        plain = type_path.is_file() and not type_path.is_symlink()
        content_type = type_path.read_text() if plain else "application/octet-stream"
        return StoredObject(key=key, size=size, content_type=content_type)

    def exists(self, key: str) -> bool:
        try:
            os.close(_open_no_links(self._root, self._path(key)))
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)  # the object first: a visible object always has its type sidecar
        path.with_name(key + _TYPE_SUFFIX).unlink(missing_ok=True)

    def ping(self) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            if not os.access(self._root, os.W_OK):
                raise ObjectStoreUnavailableError(f"object folder {self._root} is not writable")
        except OSError as exc:
            raise ObjectStoreUnavailableError(f"object folder {self._root}: {exc}") from exc


def _open_no_links(root: Path, path: Path) -> int:
    """Open ``root/<fan-out>/<key>`` for reading without following a link below the root: a link planted
    under a valid key (to /etc/passwd, to the database) reads as a missing object. The root itself is the
    operator's configured folder and may be a link they chose."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    opened: list[int] = []
    try:
        opened.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        opened.append(os.open(path.parent.name, flags | os.O_DIRECTORY, dir_fd=opened[-1]))
        fd = os.open(path.name, flags, dir_fd=opened[-1])  # ELOOP for a link, ENOENT for nothing
    except OSError as exc:
        raise FileNotFoundError(str(path)) from exc
    finally:
        for folder in opened:
            os.close(folder)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(str(path))
    return fd


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
