"""Prometheus metrics, one registry per app (tests and multiple apps in one process never collide).

Request latency is timed by middleware and inference latency by the analyzer as it runs; camera states,
snapshot ages and hazards per kind are read when Prometheus scrapes (from this process's camera board and
the database), so they never go stale and cost nothing between scrapes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cameras.health import StreamState
from serving.pipelines.camera_board import CameraBoard

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    request_latency: Histogram
    inference_latency: Histogram
    queue_depth: Gauge

    def observe_inference(self, model: str, seconds: float) -> None:
        self.inference_latency.labels(model=model).observe(seconds)


class LiveGauges(Collector):
    """Collected at scrape time: cameras per health state, each camera's snapshot age, hazards per kind."""

    def __init__(
        self,
        board: Callable[[], CameraBoard | None],
        hazards_by_kind: Callable[[], Mapping[str, int]],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._board, self._hazards, self._now = board, hazards_by_kind, now

    def collect(self) -> Iterator[Metric]:
        states = GaugeMetricFamily("hazardeye_cameras", "Cameras by health state", labels=["state"])
        ages = GaugeMetricFamily(
            "hazardeye_camera_snapshot_age_seconds",
            "Seconds since each camera's latest snapshot",
            labels=["camera"],
        )
        rows = board.all() if (board := self._board()) is not None else ()
        for state in StreamState:
            states.add_metric([state.value], sum(1 for row in rows if row.state is state))
        now = self._now()
        for row in rows:
            if row.snapshot_at is not None:
                ages.add_metric([row.id], max(0.0, (now - row.snapshot_at).total_seconds()))
        yield states
        yield ages
        opened = CounterMetricFamily("hazardeye_hazards_opened", "Hazards opened, by kind", labels=["kind"])
        try:
            for kind, count in sorted(self._hazards().items()):
                opened.add_metric([kind], count)
        except Exception:  # the database is down: the scrape still answers with what it has
            log.warning("metrics: hazards per kind unavailable", exc_info=True)
        yield opened


def build_metrics(
    queue_depth: Callable[[], int],
    board: Callable[[], CameraBoard | None] = lambda: None,
    hazards_by_kind: Callable[[], Mapping[str, int]] = dict,
) -> Metrics:
    registry = CollectorRegistry()
    depth = Gauge("hazardeye_task_queue_depth", "Tasks waiting or running", registry=registry)
    depth.set_function(lambda: float(queue_depth()))
    registry.register(LiveGauges(board, hazards_by_kind))
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
