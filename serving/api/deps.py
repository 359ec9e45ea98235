"""Request-scoped access to the process's container (set once by ``create_app``)."""

from __future__ import annotations

from fastapi import Request

from serving.bootstrap import Container


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container
