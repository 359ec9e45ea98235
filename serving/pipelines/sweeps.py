"""Periodic sweeps in a background thread of ``hazardeye serve``: hazard escalation, permit expiry,
stale sensors, camera frame retention; what they produce goes out on the bus. Every sweep is idempotent
in the workflow, so two API nodes sweeping at once change nothing twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from serving.bus.messages import Alert
from serving.bus.port import AlertBus
from serving.pipelines.retention import FrameRetention, retention_sweep
from serving.pipelines.sensor_alerts import to_bus_alert
from workflow.services.context import WorkflowContext
from workflow.services.escalation import escalation_sweep
from workflow.services.permits import expire_sweep
from workflow.services.sensors import stale_sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    escalated: int
    expired: int
    stale: int
    frames_deleted: int = 0


def sweep_once(ctx: WorkflowContext, bus: AlertBus, retention: FrameRetention | None = None) -> SweepResult:
    now = ctx.clock.now()
    escalations = escalation_sweep(ctx)
    for step in escalations:
        bus.publish_alert(
            Alert(
                alert_id=f"escalation-{step.hazard_id}-{step.to_level}",
                kind="hazard.escalated",
                level=min(9, 2 + step.to_level),
                message=f"hazard {step.hazard_id} overdue: escalated to level {step.to_level} "
                f"({step.responsible})",
                created_at=now,
            )
        )
    expired = expire_sweep(ctx)
    for permit_id in expired:
        bus.publish_alert(
            Alert(
                alert_id=f"permit-{permit_id}-expired",
                kind="permit.expired",
                level=1,
                message=f"permit {permit_id} expired and was suspended",
                created_at=now,
            )
        )
    stale = stale_sweep(ctx)
    for alert in stale:
        bus.publish_alert(to_bus_alert(alert))
    deleted = retention_sweep(ctx, retention) if retention is not None else 0
    return SweepResult(len(escalations), len(expired), len(stale), deleted)


class SweepThread:
    """Runs ``sweep_once`` every ``interval_s``; a failing sweep is logged and retried next tick."""

    def __init__(
        self,
        ctx: WorkflowContext,
        bus: AlertBus,
        interval_s: float,
        retention: FrameRetention | None = None,
        retry_photos: Callable[[], int] | None = None,
    ) -> None:
        self._ctx, self._bus, self._interval_s, self._retention = ctx, bus, interval_s, retention
        self._retry_photos = retry_photos
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hazardeye-sweeps", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> bool:
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                result = sweep_once(self._ctx, self._bus, self._retention)
            except Exception:
                log.exception("sweep failed; next try in %.0fs", self._interval_s)
                continue
            retried = self._retry_failed_photos()
            self.runs += 1
            if result.escalated or result.expired or result.stale or result.frames_deleted or retried:
                log.info("sweep: %s, photos retried %d", result, retried)

    def _retry_failed_photos(self) -> int:
        if self._retry_photos is None:
            return 0
        try:
            return self._retry_photos()
        except Exception:
            log.exception("retrying failed photos failed; next try in %.0fs", self._interval_s)
            return 0
