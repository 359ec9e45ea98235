"""A private PostgreSQL server (initdb in a temporary folder, its own port) that a test may stop and
start: restarting the shared loopback server would disturb every other test."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed: run scripts/system-packages")
    return str(found[-1])


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres system user then.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [_bin("pg_ctl"), "-D", str(self.datadir), "-o", options, "-w", "-l", str(self.log), "start"]
        subprocess.run(_as_server_user(command), check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        command = [_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_server_user(command), check=False, capture_output=True, timeout=60)

    @property
    def log(self) -> Path:
        return self.datadir.parent / "server.log"


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="hazardeye-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, datadir):
            os.chown(path, user.pw_uid, user.pw_gid)
    init = [_bin("initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run(_as_server_user(init), check=True, capture_output=True, timeout=120)
    server = PrivatePostgres(datadir, _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
