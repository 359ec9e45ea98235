"""FastAPI app factory."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api import auth, health
from serving.api.limits import BodySizeLimit
from serving.api.metrics import Metrics, RequestLatency, build_metrics
from serving.bootstrap import Container


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="hazardeye", version="0.1.0")
    metrics = build_metrics(container.tasks.queue_depth)
    app.state.container = container
    app.state.metrics = metrics

    # Uploads (photos) are refused above the limit while they stream in, never buffered whole.
    app.add_middleware(
        BodySizeLimit, max_bytes=container.settings.photos.max_bytes, path_prefixes=["/api/v1/"]
    )
    app.add_middleware(RequestLatency, metrics=metrics)  # outermost: refused uploads are timed too
    app.include_router(health.router)
    app.include_router(auth.router)
    _add_metrics_route(app, metrics)
    return app


def _add_metrics_route(app: FastAPI, metrics: Metrics) -> None:
    @app.get("/metrics", response_class=PlainTextResponse, tags=["health"])
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
