"""The production task handlers, bound to a container; the API process and ``hazardeye worker`` both
call ``register_handlers`` so the inline and Celery runners run the same functions."""

from __future__ import annotations

from serving.bootstrap import Container
from serving.pipelines import camera_monitor, photos, verification


def register_handlers(container: Container) -> None:
    """Register every background task of the service on ``container.task_registry``."""
    photos.register_tasks(container)
    verification.register_tasks(container)
    camera_monitor.register_tasks(container)
