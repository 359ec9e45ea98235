"""``/api/v1/alerts``: the alert list, acknowledgement, and the live feed (text/event-stream)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.params import RowId
from serving.bootstrap import Container
from serving.bus.fanout import alert_queue
from serving.bus.port import AlertBus
from workflow.domain.roles import Actor, Role
from workflow.services.sensors import Alert, acknowledge_alert, list_alerts

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
KEEPALIVE_S = 15.0


class AlertOut(BaseModel):
    id: int
    kind: str  # sensor.tier | sensor.stale | permit.understaffed | permit.overstaffed
    sensor_id: str | None
    zone: str
    tier: int | None
    previous_tier: int | None
    value: float | None
    at: datetime
    acknowledged: bool
    hazard_id: int | None
    message: str
    camera_id: str | None = None  # camera.offline | camera.back

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls.model_validate(a, from_attributes=True)


@router.get("", response_model=list[AlertOut], responses=error_responses(422))
def get_alerts(
    unacknowledged: bool = Query(False, description="Only alerts nobody has acknowledged yet"),
    limit: int = Query(100, ge=1, le=500),
    _actor: Actor = Depends(current_actor),
    container: Container = Depends(container_of),
) -> list[AlertOut]:
    """Newest first."""
    alerts = list_alerts(container.workflow, unacknowledged_only=unacknowledged, limit=limit)
    return [AlertOut.of(a) for a in alerts]


@router.post("/{alert_id}/ack", response_model=AlertOut, responses=error_responses(403, 404, 422))
def ack(
    alert_id: RowId,
    actor: Actor = Depends(require_roles(Role.INSPECTOR, Role.SAFETY_ENGINEER)),
    container: Container = Depends(container_of),
) -> AlertOut:
    return AlertOut.of(acknowledge_alert(container.workflow, alert_id, actor))


async def _events(request: Request, bus: AlertBus, max_events: int | None) -> AsyncIterator[str]:
    async with alert_queue(bus) as queue:
        yield ": connected\n\n"
        sent = 0
        while max_events is None or sent < max_events:
            try:
                alert = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keep-alive\n\n"  # proxies close idle connections; comments keep it open
                continue
            yield f"id: {alert.alert_id}\nevent: alert\ndata: {alert.model_dump_json()}\n\n"
            sent += 1


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-sent events: `event: alert`, `data:` one bus Alert as JSON "
            "(alert_id, kind, level, message, created_at, sensor_id, zone)",
        },
        **error_responses(422),
    },
)
async def stream(
    request: Request,
    max_events: int | None = Query(None, ge=1, le=10_000, description="Close after this many alerts"),
    _actor: Actor = Depends(current_actor),
    container: Container = Depends(container_of),
) -> StreamingResponse:
    """Live feed of new alerts (sensor tiers, permits, camera state, new hazards) as they are published."""
    return StreamingResponse(
        _events(request, container.bus, max_events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
