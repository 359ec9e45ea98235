"""The CLI entry points as real processes: `hazardeye users create`, `hazardeye db upgrade` and
`hazardeye serve` on a free port with a temporary data folder (SQLite under it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HAZARDEYE = str(Path(sys.executable).parent / "hazardeye")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("HAZARDEYE_")},
        "HAZARDEYE_DATA_DIR": str(tmp_path / "var"),
        "HAZARDEYE_DATABASE__URL": f"sqlite:///{tmp_path / 'var' / 'hazardeye.db'}",
        "HAZARDEYE_OBJECTS__KIND": "local",  # a discriminated union: the kind must be named
        "HAZARDEYE_OBJECTS__ROOT": str(tmp_path / "var" / "objects"),
        "HAZARDEYE_HTTP__PORT": str(port),
    }


def _get(url: str, key: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_healthy(
    url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0
) -> tuple[int, dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hazardeye serve exited with {proc.returncode}")
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("hazardeye serve did not answer in time")


def test_serve_prints_admin_key_once_and_answers_health(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, port)
    log_path = tmp_path / "serve.log"

    def start() -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            return subprocess.Popen([HAZARDEYE, "serve"], env=env, cwd=tmp_path, stdout=log, stderr=log)

    proc = start()
    try:
        status, body = _wait_healthy(f"http://127.0.0.1:{port}/health", proc)
        assert status == 200, body
        assert body["status"] == "ok"
        first_log = log_path.read_text()
        assert first_log.count("shown only this once") == 1
        key = first_log.split("shown only this once:")[1].split()[0]
        status, me = _get(f"http://127.0.0.1:{port}/api/v1/me", key)
        assert (status, me) == (200, {"name": "admin", "role": "admin"})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "var" / "hazardeye.db").exists()

    # Second start on the same data folder: no new admin key is printed.
    proc = start()
    try:
        status, _ = _wait_healthy(f"http://127.0.0.1:{port}/health", proc)
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert log_path.read_text().count("shown only this once") == 1


def test_users_create_prints_a_working_key_and_db_upgrade_is_repeatable(tmp_path: Path) -> None:
    env = _env(tmp_path, _free_port())
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120}
    for _ in range(2):
        upgraded = subprocess.run([HAZARDEYE, "db", "upgrade"], check=False, **run)  # type: ignore[call-overload]
        assert upgraded.returncode == 0, upgraded.stderr
    created = subprocess.run(  # type: ignore[call-overload]
        [HAZARDEYE, "users", "create", "wang", "--role", "reviewer"], check=False, **run
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert len(key) >= 32
    again = subprocess.run(  # type: ignore[call-overload]
        [HAZARDEYE, "users", "create", "wang", "--role", "reviewer"], check=False, **run
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    bad_role = subprocess.run(  # type: ignore[call-overload]
        [HAZARDEYE, "users", "create", "zhao", "--role", "boss"], check=False, **run
    )
    assert bad_role.returncode == 2
    assert "unknown role" in bad_role.stderr

    from serving.bootstrap import bootstrap
    from serving.settings import DatabaseSettings, LocalObjectStoreSettings, Settings
    from workflow.services.users import authenticate

    container = bootstrap(
        Settings(
            database=DatabaseSettings(url=env["HAZARDEYE_DATABASE__URL"]),
            objects=LocalObjectStoreSettings(root=tmp_path / "objects"),
        )
    )
    try:
        actor = authenticate(container.workflow, key)
    finally:
        container.close()
    assert actor is not None
    assert (actor.name, actor.role.value) == ("wang", "reviewer")


def test_worker_refuses_the_inline_profile(tmp_path: Path) -> None:
    result = subprocess.run(
        [HAZARDEYE, "worker"], env=_env(tmp_path, _free_port()), cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "HAZARDEYE_TASKS__KIND=celery" in result.stderr
