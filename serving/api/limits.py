"""Request body size limit enforced while the body streams in (ASGI middleware).

Starlette parses multipart uploads completely before a handler runs, so a handler-level check would
come too late: an oversized upload would already be read (and spooled). This middleware refuses a
declared Content-Length above the limit before reading anything, and stops a chunked body as soon as
the running count passes the limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(HTTPException):
    # An HTTPException so FastAPI's body parsing re-raises it (it turns other errors into 400s).
    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            status_code=413,
            detail={"error": "too_large", "message": f"request body exceeds the limit of {max_bytes} bytes"},
        )


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, path_prefixes: Sequence[str]) -> None:
        self._app = app
        self._max = max_bytes
        self._prefixes = tuple(path_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self._prefixes):
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max:
            await self._refuse(send)
            return

        received = 0
        started = False  # pragma: no mutate (None is as false; the first send makes it a bool)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    raise BodyTooLargeError(self._max)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": BodyTooLargeError(self._max).detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})
