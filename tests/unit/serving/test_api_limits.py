from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import File, Request, UploadFile
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from serving.api import create_app
from serving.api.limits import BodySizeLimit, BodyTooLargeError
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

    @app.post("/api/v1/echo-raw")
    async def echo_raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c
    container.close()


def test_the_refusal_says_what_the_limit_is(client: TestClient) -> None:
    response = client.post("/api/v1/echo-raw", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {
        "detail": {"error": "too_large", "message": "request body exceeds the limit of 10000 bytes"}
    }


def test_upload_under_the_limit_passes(client: TestClient) -> None:
    response = client.post("/api/v1/echo-size", files={"photo": ("a.jpg", b"x" * 5000, "image/jpeg")})
    assert response.status_code == 200
    assert response.json() == {"size": 5000}


def drive(
    client: TestClient,
    path: str,
    chunks: list[bytes],
    headers: list[tuple[bytes, bytes]],
    sent: list[Message] | None = None,
) -> tuple[int, int]:
    """Run one request at the ASGI level: (status, body chunks the app pulled); the messages the app sent
    go to ``sent``. An HTTP client would read the whole body itself, hiding when the server stopped."""
    app = client.app
    pulled = 0
    sent = [] if sent is None else sent

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        body = chunks[pulled - 1] if pulled <= len(chunks) else b""
        return {"type": "http.request", "body": body, "more_body": pulled < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"test"), (b"authorization", client.headers["authorization"].encode()),
                    *headers],
        "app": app,
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    return int(start["status"]), pulled


def test_declared_oversize_is_refused_before_reading(client: TestClient) -> None:
    declared = [(b"content-length", str(LIMIT + 1).encode())]
    sent: list[Message] = []
    status, pulled = drive(client, "/api/v1/echo-raw", [b"x" * 1000] * 11, declared, sent)
    assert (status, pulled) == (413, 0)
    body = b'{"detail": {"error": "too_large", "message": "request body exceeds the limit of 10000 bytes"}}'
    start, sent_body = sent
    # The security-header middleware outside adds its own headers after these.
    assert start["headers"][:2] == [(b"content-type", b"application/json"), (b"connection", b"close")]
    assert sent_body == {"type": "http.response.body", "body": body}


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413)])
def test_the_limit_is_inclusive_for_declared_and_streamed_bodies(
    client: TestClient, size: int, status: int
) -> None:
    body = [b"x" * 1000] * (size // 1000) + [b"x" * (size % 1000)]
    declared = [(b"content-length", str(size).encode())]
    assert drive(client, "/api/v1/echo-raw", body, declared)[0] == status
    assert drive(client, "/api/v1/echo-raw", body, [])[0] == status  # chunked: no length declared


def test_chunked_oversize_stops_reading_early(client: TestClient) -> None:
    head = b'--B\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\n'
    multipart = [(b"content-type", b"multipart/form-data; boundary=B")]
    status, pulled = drive(client, "/api/v1/echo-size", [head] + [b"x" * 1000] * 999, multipart)  # ~1 MB
    assert status == 413
    assert pulled < 50  # the rest of the megabyte was never read


def test_limit_does_not_apply_outside_the_api(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_an_overrun_after_the_response_started_is_raised_not_answered_a_second_time() -> None:
    # A streaming handler that answered before reading: a second response start would break the
    # protocol, so the error goes up to the server, which drops the connection.
    sent: list[Message] = []
    start: Message = {"type": "http.response.start", "status": 200, "headers": []}

    async def answering_first(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        while (await receive())["more_body"]:
            pass

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 6, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    limited = BodySizeLimit(answering_first, max_bytes=10, path_prefixes=["/api/"])
    with pytest.raises(BodyTooLargeError) as raised:
        asyncio.run(limited({"type": "http", "path": "/api/v1/x", "headers": []}, receive, send))
    assert sent == [{"type": "http.response.start", "status": 200, "headers": []}]
    assert raised.value.detail == {
        "error": "too_large",
        "message": "request body exceeds the limit of 10 bytes",
    }


def test_an_overrun_that_escapes_a_plain_asgi_app_is_answered_413_by_the_middleware() -> None:
    # Not every app turns the error into a response as FastAPI does: one that reads the whole body before
    # answering lets it escape, and the middleware answers in its place.
    sent: list[Message] = []

    async def reading_first(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["more_body"]:
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 6, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    limited = BodySizeLimit(reading_first, max_bytes=10, path_prefixes=["/api/"])
    asyncio.run(limited({"type": "http", "path": "/api/v1/x", "headers": []}, receive, send))
    body = b'{"detail": {"error": "too_large", "message": "request body exceeds the limit of 10 bytes"}}'
    assert sent == [
        {"type": "http.response.start", "status": 413,
         "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]},
        {"type": "http.response.body", "body": body},
    ]  # fmt: skip
