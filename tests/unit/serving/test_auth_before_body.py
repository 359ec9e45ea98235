"""Anonymous and unknown-key uploads are refused before the server reads their body (issue 12, 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.roles import Role

BODY = b"x" * (2 * 1024 * 1024)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


class BodyMeter:
    """Wraps the app: counts the body bytes the app pulled through ``receive``."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)  # type: ignore[operator]


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic abc"}])
def test_a_refused_upload_is_never_read(api: ApiHarness, auth: dict[str, str]) -> None:
    meter = BodyMeter(api.client.app)
    with TestClient(meter) as client:  # type: ignore[arg-type]
        response = client.post(
            "/api/v1/photos",
            content=BODY,
            headers={"Content-Type": "multipart/form-data; boundary=b", **auth},
        )
    assert response.status_code == 401
    assert response.json()["detail"]["error"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"
    assert meter.read == 0


def test_a_known_key_is_read_and_answered_by_the_route(api: ApiHarness) -> None:
    meter = BodyMeter(api.client.app)
    with TestClient(meter) as client:  # type: ignore[arg-type]
        response = client.post(
            "/api/v1/photos",
            content=b"--b\r\nContent-Disposition: form-data; name=zone\r\n\r\nz\r\n--b--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=b", **api.auth(Role.INSPECTOR)},
        )
    assert response.status_code == 422  # the route read the body and found no file
    assert meter.read > 0
