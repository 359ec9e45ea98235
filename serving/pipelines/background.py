"""What ``hazardeye serve`` runs next to the API: the camera monitor, the sweeps and the sensor bridge."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from serving.bootstrap import Container
from serving.bus.port import Unsubscribe
from serving.bus.sensor_bridge import connect_sensor_readings
from serving.pipelines.camera_board import CameraBoard
from serving.pipelines.camera_monitor import CameraMonitor, build_monitor
from serving.pipelines.photos import PhotoPipeline
from serving.pipelines.retention import FrameRetention
from serving.pipelines.sensor_alerts import SensorAlerts
from serving.pipelines.sweeps import SweepThread

log = logging.getLogger(__name__)


@dataclass
class Background:
    board: CameraBoard
    monitor: CameraMonitor | None
    sweeps: SweepThread | None
    unsubscribe_sensors: Unsubscribe

    def stop(self) -> None:
        self.unsubscribe_sensors()
        if self.monitor is not None and not self.monitor.stop():
            log.error("camera threads did not stop in time")
        if self.sweeps is not None:
            self.sweeps.stop()


def start_background(container: Container) -> Background:
    """Start everything (after ``register_handlers``); raises ``CameraConfigError`` for a bad camera file."""
    settings = container.settings
    board = CameraBoard()
    monitor = build_monitor(container, board)
    max_age = timedelta(seconds=settings.monitor.snapshot_max_age_s)
    sensors = SensorAlerts(container.workflow, container.bus, board, snapshot_max_age=max_age)
    unsubscribe = connect_sensor_readings(container.bus, container.workflow, sensors)
    keep_h = settings.monitor.frame_retention_h
    retention = None if keep_h is None else FrameRetention(container.objects, timedelta(hours=keep_h))
    sweeps = SweepThread(
        container.workflow,
        container.bus,
        settings.sweeps.interval_s,
        retention,
        retry_photos=PhotoPipeline(container).retry_failed,
    )
    if settings.sweeps.enabled:
        sweeps.start()
    if monitor is not None:
        monitor.start()
        log.info("monitoring %d camera(s)", len(monitor.cameras))
    return Background(board, monitor, sweeps if settings.sweeps.enabled else None, unsubscribe)
