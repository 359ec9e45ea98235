"""Serves the UI shell at ``/`` and its files under ``/static`` (no build step, no network)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The shell is tiny and changes with every deploy; modules are revalidated by ETag anyway.
_NO_CACHE = {"Cache-Control": "no-cache"}


def install_web(app: FastAPI) -> None:
    """Add ``GET /`` (the HTML shell; no auth, the page asks for the API key) and ``/static``."""

    @app.get("/", include_in_schema=False)
    def shell() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_NO_CACHE)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
