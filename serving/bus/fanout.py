"""Bus alerts → asyncio: one bounded queue per live-feed client (the SSE stream of the web UI).

The bus calls subscribers from its own thread (paho's, a task's, a camera's); the queue is filled
through ``call_soon_threadsafe``. A slow client loses its oldest alerts, never blocks the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from serving.bus.messages import Alert
from serving.bus.port import AlertBus


def _put_dropping_oldest(queue: asyncio.Queue[Alert], alert: Alert) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(alert)


@asynccontextmanager
async def alert_queue(bus: AlertBus, maxsize: int = 256) -> AsyncIterator[asyncio.Queue[Alert]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=maxsize)

    def on_alert(alert: Alert) -> None:
        # RuntimeError: the client's loop is gone; the unsubscribe below is on its way.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_put_dropping_oldest, queue, alert)

    unsubscribe = bus.subscribe_alerts(on_alert)
    try:
        yield queue
    finally:
        unsubscribe()
