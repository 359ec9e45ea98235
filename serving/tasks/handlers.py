"""The production task handlers, bound to a container; the API process and ``hazardeye worker`` both
call ``register_handlers`` so the inline and Celery runners run the same functions."""

from __future__ import annotations

from serving.bootstrap import Container


def register_handlers(container: Container) -> None:
    """Register every background task of the service on ``container.task_registry``.

    The inference/verification handlers join here with the photo and camera pipelines; until then the
    registry is empty and a worker simply idles on its queue.
    """
    _ = container
