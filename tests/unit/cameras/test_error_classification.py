"""Error kinds come from FFmpeg's words, never from digits inside the URL it quotes."""

from __future__ import annotations

import errno

import av
import pytest

from cameras.stream import ErrorKind, classify

INVALID = "Invalid data found when processing input"
URL = "rtsp://admin:secret@127.0.0.1:36403/cam1"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        # The port ends in 403 and the path in 404: neither is a status code.
        (av.InvalidDataError(errno.EINVAL, INVALID, URL), ErrorKind.DECODE),
        (OSError(errno.EIO, f"Input/output error: '{URL.replace('cam1', 'cam404')}'"), ErrorKind.OTHER),
        (Exception(f"Server returned 401 Unauthorized: '{URL}'"), ErrorKind.UNAUTHORIZED),
        (Exception("Server returned 403 Forbidden (access denied)"), ErrorKind.UNAUTHORIZED),
        (Exception(f"Server returned 404 Not Found: '{URL}'"), ErrorKind.NOT_FOUND),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), ErrorKind.REFUSED),
        (TimeoutError("Connection timed out"), ErrorKind.TIMEOUT),
    ],
)
def test_kind_follows_the_message_not_the_url(exc: BaseException, kind: ErrorKind) -> None:
    error = classify(exc, URL)
    assert error.kind is kind
    assert "secret" not in str(error)
