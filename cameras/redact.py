"""Credential redaction: camera URLs carry passwords, and none may reach a log, an event or an error.

FFmpeg and PyAV put the full URL into their error messages, so ``scrub`` cleans any text that might
contain one before it leaves this package.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query parameters some cameras use for credentials (e.g. ``?user=admin&password=...``).
_SECRET_KEYS = re.compile(r"(pass|pwd|token|secret|key|auth|user|login|sig)", re.IGNORECASE)
# Any ``scheme://user[:pass]@`` fragment inside free text (error messages quote URLs verbatim).
_USERINFO_IN_TEXT = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@")


def redact_url(url: str) -> str:
    """The URL with user, password and credential-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_IN_TEXT.sub(rf"\g<scheme>{MASK}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _SECRET_KEYS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, *urls: str) -> str:
    """``text`` with every given URL (and its password, wherever it appears alone) redacted."""
    for url in urls:
        if not url:
            continue
        text = text.replace(url, redact_url(url))
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password and len(password) >= 3:
            text = text.replace(password, MASK)
    return _USERINFO_IN_TEXT.sub(rf"\g<scheme>{MASK}@", text)
