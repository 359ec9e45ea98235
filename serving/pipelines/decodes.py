"""A bound on full-photo decodes in flight in one process.

A 50-megapixel photo briefly needs hundreds of megabytes however carefully it is decoded (the compressed
bytes, libjpeg's buffers, the reduced image and its resize); eight at once took a process to 3.4 GB. Each
photo decode holds one slot; a request that finds none free within ``wait_s`` is answered 503 with
Retry-After rather than queueing without limit, and a background analysis that times out is retried.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DecodeBusyError(RuntimeError):
    """Every decode slot stayed busy for the configured wait: retry shortly."""


class DecodeSlots:
    def __init__(self, slots: int, wait_s: float) -> None:
        if slots < 1:
            raise ValueError(f"decode slots must be at least 1, got {slots}")
        self.slots = slots
        self.wait_s = wait_s
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def hold(self, what: str) -> Iterator[None]:
        """Hold one slot while decoding ``what`` (named in the busy error)."""
        if not self._free.acquire(timeout=self.wait_s):
            raise DecodeBusyError(
                f"{what}: all {self.slots} image decode slots stayed busy for {self.wait_s:g} s; "
                "retry shortly"
            )
        try:
            yield
        finally:
            self._free.release()
