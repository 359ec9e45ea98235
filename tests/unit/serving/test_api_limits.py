from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import File, UploadFile
from fastapi.testclient import TestClient
from starlette.types import Message

from serving.api import create_app
from serving.bootstrap import Container, bootstrap
from serving.cli.admin import upgrade
from serving.settings import DatabaseSettings, LocalObjectStoreSettings, PhotoSettings, Settings
from workflow.domain.roles import Role
from workflow.services.users import create_user

LIMIT = 10_000


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
        objects=LocalObjectStoreSettings(root=tmp_path / "objects"),
        photos=PhotoSettings(max_bytes=LIMIT),
    )
    upgrade(settings.database)
    container: Container = bootstrap(settings)
    _, key = create_user(container.workflow, "uploader", Role.INSPECTOR)  # uploads are refused without one
    app = create_app(container)

    @app.post("/api/v1/echo-size")
    async def echo_size(photo: UploadFile = File(...)) -> dict[str, int]:
        return {"size": len(await photo.read())}

    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c
    container.close()


def test_upload_under_the_limit_passes(client: TestClient) -> None:
    response = client.post("/api/v1/echo-size", files={"photo": ("a.jpg", b"x" * 5000, "image/jpeg")})
    assert response.status_code == 200
    assert response.json() == {"size": 5000}


def test_declared_oversize_is_refused_before_reading(client: TestClient) -> None:
    response = client.post("/api/v1/echo-size", files={"photo": ("a.jpg", b"x" * (LIMIT + 1), "image/jpeg")})
    assert response.status_code == 413
    assert response.json()["detail"]["error"] == "too_large"


def test_chunked_oversize_stops_reading_early(client: TestClient) -> None:
    # Driven at the ASGI level: an HTTP client would read the whole body itself, hiding when the
    # server stopped pulling chunks.
    app = client.app
    pulled = 0
    sent: list[Message] = []
    head = b'--B\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\n'

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        body = head if pulled == 1 else b"x" * 1000
        return {"type": "http.request", "body": body, "more_body": pulled < 1000}  # ~1 MB, no length

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/echo-size", "raw_path": b"/api/v1/echo-size",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"multipart/form-data; boundary=B"), (b"host", b"test"),
                    (b"authorization", client.headers["authorization"].encode())],
        "app": app,
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert pulled < 50  # the rest of the megabyte was never read


def test_limit_does_not_apply_outside_the_api(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
