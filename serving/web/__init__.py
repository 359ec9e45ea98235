"""The browser UI: a static single-page app served by the API process (all data via /api/v1)."""

from serving.web.routes import install_web

__all__ = ["install_web"]
