"""FastAPI app factory."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api import auth, health
from serving.api.auth_first import AuthBeforeBody
from serving.api.errors import ApiError, install_error_handlers
from serving.api.limits import BodySizeLimit
from serving.api.metrics import Metrics, RequestLatency, build_metrics
from serving.api.routes import (
    alerts,
    audit,
    cameras,
    hazards,
    kpis,
    manual_hazards,
    objects,
    permits,
    photos,
    reviews,
    sensors,
    watch,
    zones,
)
from serving.api.routes import models as model_routes
from serving.api.security_headers import SecurityHeaders
from serving.bootstrap import Container
from serving.web import install_web
from workflow.services.queries import hazards_by_kind
from workflow.services.users import authenticate


def create_app(container: Container) -> FastAPI:
    # No /docs or /redoc: FastAPI's pages load their scripts from a public CDN and the service runs
    # air-gapped. The complete schema stays at /openapi.json for any local OpenAPI viewer.
    app = FastAPI(title="hazardeye", version="0.1.0", docs_url=None, redoc_url=None)
    metrics = build_metrics(
        container.tasks.queue_depth,
        board=lambda: getattr(app.state, "camera_board", None),  # set by `hazardeye serve`
        hazards_by_kind=lambda: hazards_by_kind(container.workflow),
    )
    container.analyzer.add_observer(metrics.observe_inference)
    container.camera_analyzer.add_observer(metrics.observe_inference)
    app.state.container = container
    app.state.metrics = metrics

    # Uploads (photos) are refused above the limit while they stream in, never buffered whole.
    app.add_middleware(
        BodySizeLimit, max_bytes=container.settings.photos.max_bytes, path_prefixes=["/api/v1/"]
    )
    # Anonymous uploads are refused from their headers, before a byte of the body is read.
    app.add_middleware(AuthBeforeBody, authenticate=lambda key: authenticate(container.workflow, key))
    app.add_middleware(SecurityHeaders)  # refusals (413, 401) carry them too
    app.add_middleware(RequestLatency, metrics=metrics)  # outermost: refused uploads are timed too
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    # Resource routers (one module each under serving/api/routes/) are included below.
    app.include_router(photos.router)
    app.include_router(objects.router)
    app.include_router(reviews.router)
    app.include_router(manual_hazards.router)
    app.include_router(cameras.router)
    app.include_router(watch.router)
    app.include_router(zones.router)
    app.include_router(permits.router)
    app.include_router(sensors.router)
    app.include_router(alerts.router)
    install_web(app)  # GET / (UI shell) and /static
    app.include_router(hazards.router)
    app.include_router(audit.router)
    app.include_router(kpis.router)
    app.include_router(model_routes.router)
    _add_metrics_route(app, metrics, container.settings.http.metrics_public)
    return app


def _add_metrics_route(app: FastAPI, metrics: Metrics, public: bool) -> None:
    guard = [] if public else [Depends(auth.current_actor)]

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["health"],
        dependencies=guard,
        responses={} if public else {401: {"model": ApiError, "description": "Missing or unknown API key"}},
    )
    def prometheus_metrics() -> Response:
        """Prometheus metrics (needs an API key unless ``HAZARDEYE_HTTP__METRICS_PUBLIC=true``)."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
