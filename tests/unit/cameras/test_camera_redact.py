from __future__ import annotations

import pytest

from cameras.redact import redact_url, scrub


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:pw123@10.0.0.5:554/h264", "rtsp://***@10.0.0.5:554/h264"),
        ("rtsp://admin@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        (
            "http://cam/snap.cgi?user=admin&password=pw123&ch=1",
            "http://cam/snap.cgi?user=***&password=***&ch=1",
        ),
        ("rtsp://a:p%40ss@h/x?token=abc", "rtsp://***@h/x?token=***"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_scrub_removes_urls_and_bare_passwords_from_error_text() -> None:
    url = "rtsp://admin:hunter22@10.0.0.5/live"
    text = f"[Errno 1] Server returned 401 Unauthorized: '{url}' (auth hunter22 rejected)"
    cleaned = scrub(text, url)
    assert "hunter22" not in cleaned and "admin" not in cleaned
    assert "rtsp://***@10.0.0.5/live" in cleaned
    # A URL we were not told about is still caught by its user-info pattern.
    assert scrub("failed: rtsp://root:toor@1.2.3.4/x") == "failed: rtsp://***@1.2.3.4/x"
