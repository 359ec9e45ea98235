"""AuthBeforeBody at the ASGI level, around a stand-in app that records whether it ran and what it read:
which requests it refuses, the exact refusal, and that a database outage lets the request through."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from starlette.types import Message, Receive, Scope, Send

from serving.api.auth_first import AuthBeforeBody
from workflow.domain.roles import Actor, Role

KNOWN = Actor(1, "ann", Role.INSPECTOR)


class InnerApp:
    def __init__(self) -> None:
        self.ran = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.ran = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def authenticate(key: str) -> Actor | None:
    if key == "db-down":
        raise ConnectionError("database is unreachable")
    return KNOWN if key == "good" else None


def call(method: str, path: str, authorization: str | None) -> tuple[bool, list[Message], int]:
    inner = InnerApp()
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"authorization", authorization.encode("latin-1"))] if authorization is not None else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run(AuthBeforeBody(inner, authenticate=authenticate)(scope, receive, send))  # type: ignore[arg-type]
    return inner.ran, sent, pulled


def refusal(message: str) -> list[Message]:
    body = json.dumps({"detail": {"error": "unauthenticated", "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"www-authenticate", b"Bearer"), (b"connection", b"close")]  # fmt: skip
    return [{"type": "http.response.start", "status": 401, "headers": headers},
            {"type": "http.response.body", "body": body}]  # fmt: skip


MISSING = "missing API key: send 'Authorization: Bearer KEY'"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [(None, MISSING), ("", MISSING), ("Basic abc", MISSING), ("Bearer ", MISSING), ("Bearer    ", MISSING),
     ("Bearer nope", "unknown or disabled API key")],
)  # fmt: skip
def test_a_body_request_without_a_known_key_is_refused_unread(
    authorization: str | None, message: str
) -> None:
    ran, sent, pulled = call("POST", "/api/v1/photos", authorization)
    assert (ran, pulled) == (False, 0)
    assert sent == refusal(message)


@pytest.mark.parametrize("authorization", ["Bearer good", "bearer good", "BEARER  good ", "Bearer db-down"])
def test_a_known_key_or_a_database_outage_lets_the_request_through(authorization: str) -> None:
    ran, sent, _ = call("PUT", "/api/v1/hazards/1", authorization)
    assert ran and sent[0]["status"] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/hazards"), ("DELETE", "/api/v1/x"), ("POST", "/health"), ("PATCH", "/api/v2")],
)
def test_requests_without_a_body_or_outside_the_api_are_left_to_the_routes(method: str, path: str) -> None:
    ran, _, _ = call(method, path, None)
    assert ran


def test_patch_under_the_api_is_checked() -> None:
    assert call("PATCH", "/api/v1/users/1", None)[0] is False


def test_a_database_outage_is_logged_with_its_reason_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="serving.api.auth_first"):
        call("POST", "/api/v1/photos", "Bearer db-down")
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "serving.api.auth_first"] == [
        (logging.DEBUG, "authentication before the body failed: database is unreachable")
    ]
