"""Response headers that keep stored content inert and the UI unframeable (ASGI middleware).

Every response: ``X-Content-Type-Options: nosniff`` (a browser never guesses HTML from bytes),
``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``. A Content-Security-Policy for the UI
(scripts only from this origin, no inline script) and a stricter one for stored objects (nothing runs:
``sandbox``, no script source at all), so even a stored file a browser renders cannot reach the
API key in the UI's storage.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OBJECT_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
)
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def policy_for(path: str) -> str:
    return OBJECT_POLICY if path.startswith("/api/v1/objects/") else UI_POLICY


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        policy = policy_for(str(scope["path"]))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(_COMMON)]
                headers += list(_COMMON)
                headers.append((b"content-security-policy", policy.encode()))
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, with_headers)
