"""``/health``: liveness plus per-dependency readiness (503 while any dependency is not ready)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from serving.bootstrap import Container

log = logging.getLogger(__name__)


class CheckResult(BaseModel):
    ok: bool
    detail: str = ""


class HealthReport(BaseModel):
    status: str  # "ok" | "degraded"
    live: bool
    checks: dict[str, CheckResult]


def readiness_checks(container: Container) -> Mapping[str, Callable[[], None]]:
    def database() -> None:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return {
        "database": database,
        "objects": container.objects.ping,
        "tasks": container.tasks.ping,
        "bus": container.bus.ping,
    }


def run_checks(checks: Mapping[str, Callable[[], None]]) -> HealthReport:
    results: dict[str, CheckResult] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = CheckResult(ok=True)
        except Exception as exc:  # a probe reports failures, it never raises them
            # /health is unauthenticated: say which dependency is down, never where it lives (the
            # driver's text names hosts, ports, buckets); the full error goes to the log.
            log.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = CheckResult(ok=False, detail=f"{name} unavailable ({type(exc).__name__})")
    ok = all(r.ok for r in results.values())
    return HealthReport(status="ok" if ok else "degraded", live=True, checks=results)


router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "A dependency is not ready"}},
)
def health(request: Request, response: Response) -> HealthReport:
    container: Container = request.app.state.container
    report = run_checks(readiness_checks(container))
    if report.status != "ok":
        response.status_code = 503
    return report
