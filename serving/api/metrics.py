"""Prometheus metrics, one registry per app (tests and multiple apps in one process never collide)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    request_latency: Histogram
    inference_latency: Histogram
    queue_depth: Gauge
    camera_states: Gauge

    def set_camera_states(self, counts: Mapping[str, int]) -> None:
        """Number of cameras per health state (online, degraded, offline, ...)."""
        for state, count in counts.items():
            self.camera_states.labels(state=state).set(count)


def build_metrics(queue_depth: Callable[[], int]) -> Metrics:
    registry = CollectorRegistry()
    depth = Gauge("hazardeye_task_queue_depth", "Tasks waiting or running", registry=registry)
    depth.set_function(lambda: float(queue_depth()))
    return Metrics(
        registry=registry,
        request_latency=Histogram(
            "hazardeye_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        inference_latency=Histogram(
            "hazardeye_inference_duration_seconds",
            "Detector inference latency",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        queue_depth=depth,
        camera_states=Gauge("hazardeye_cameras", "Cameras by health state", ["state"], registry=registry),
    )


class RequestLatency:
    """Pure ASGI middleware timing each HTTP request by route template (not raw path, so ids in paths
    cannot explode label cardinality). Pure ASGI rather than ``@app.middleware``: it adds no task group
    around ``receive``, so errors raised while a body streams in keep their own type and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self._metrics.request_latency.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - start
            )
