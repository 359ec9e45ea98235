"""HTTP API: ``create_app(container)`` builds a FastAPI app; nothing is built at import time."""

from serving.api.app import create_app

__all__ = ["create_app"]
