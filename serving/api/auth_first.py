"""Authenticate before the body is read (ASGI middleware).

FastAPI parses a multipart body before any dependency runs, so an anonymous client could make the server
read (and spool) a 20 MiB upload only to be told 401. This middleware looks at the ``Authorization``
header of every request under ``/api/v1/`` that carries a body and answers 401 without touching the body
when the key is missing or unknown. A known key passes through; the route's own dependency still checks
the role. If the database cannot answer, the request goes on and the route reports the outage as usual.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from workflow.domain.roles import Actor

log = logging.getLogger(__name__)
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class AuthBeforeBody:
    def __init__(
        self, app: ASGIApp, *, authenticate: Callable[[str], Actor | None], prefix: str = "/api/v1/"
    ):
        self._app = app
        self._authenticate = authenticate
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _WITH_BODY
            or not scope["path"].startswith(self._prefix)
        ):
            await self._app(scope, receive, send)
            return
        # Equivalent mutants: no header and any other non-Bearer value get the same refusal, and codec
        # names are case-insensitive.
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")  # pragma: no mutate
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            await _refuse(send, "missing API key: send 'Authorization: Bearer KEY'")
            return
        try:
            known = await run_in_threadpool(self._authenticate, key.strip()) is not None
        except Exception as exc:  # the database is down: let the route answer 503 as for any request
            log.debug("authentication before the body failed: %s", exc)
            known = True
        if not known:
            await _refuse(send, "unknown or disabled API key")
            return
        await self._app(scope, receive, send)


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"detail": {"error": "unauthenticated", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
                (b"connection", b"close"),  # the unread body cannot be skipped on this connection
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
