"""Private servers the fault tests stop, cut and restart (never the shared loopback ones)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not start listening on port {port}")
            time.sleep(0.1)


@pytest.fixture
def moto_port(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / "moto.log").open("wb")
    command = [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        wait_listening(port, "moto_server")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
