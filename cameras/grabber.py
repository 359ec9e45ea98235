"""Two ways to get one decoded frame from a camera, chosen by how often it is needed.

``PersistentGrabber`` keeps the connection open and a reader thread demuxing (cheap: no decoding),
holding only the packets since the newest keyframe; a snapshot then decodes that keyframe (or, when
it is stale or already used, the GOP up to the newest picture). ``grab_on_demand`` connects, waits
for one keyframe, decodes it and disconnects: for cameras polled every few minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import av.container
import av.video

from cameras.config import Transport
from cameras.stream import (
    MAX_GOP_UNITS,
    AccessUnit,
    DecodedFrame,
    ErrorKind,
    FrameDecoder,
    StreamError,
    StreamInfo,
    access_units,
    classify,
    first_keyframe,
    open_container,
    stream_info,
)


class PersistentGrabber:
    """One open stream; ``grab()`` returns the newest picture. Not shared between threads except the
    reader it owns; call ``close()`` (idempotent, bounded by the read timeout) when done."""

    def __init__(
        self,
        url: str,
        *,
        transport: Transport = Transport.TCP,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        keyframe_timeout_s: float = 30.0,
        max_keyframe_age_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._transport = transport
        self._open_timeout_s = open_timeout_s
        self._read_timeout_s = read_timeout_s
        # Waiting for a first keyframe is bounded separately: packets flowing (checked against the read
        # timeout) mean the camera is there and its next keyframe is coming.
        self._keyframe_timeout_s = max(keyframe_timeout_s, read_timeout_s)
        self._max_keyframe_age_s = max_keyframe_age_s
        self._clock = clock
        self._cond = threading.Condition()
        self._gop: list[AccessUnit] = []
        self._last_unit_at: float | None = None
        self._error: StreamError | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._decoder: FrameDecoder | None = None
        self._served_key: AccessUnit | None = None  # keyframe of the GOP the last snapshot came from
        self._broken_key: AccessUnit | None = None  # a keyframe that did not decode (joined mid-unit)
        self.info: StreamInfo | None = None

    def connect(self) -> StreamInfo:
        """Open the stream (bounded by the open timeout) and start the reader thread."""
        container, stream = open_container(
            self._url,
            transport=self._transport,
            open_timeout_s=self._open_timeout_s,
            read_timeout_s=self._read_timeout_s,
        )
        self.info = stream_info(stream)
        self._decoder = FrameDecoder(stream)
        self._last_unit_at = self._clock()
        self._thread = threading.Thread(
            target=self._read, args=(container, stream), name="camera-reader", daemon=True
        )
        self._thread.start()
        return self.info

    def _read(self, container: av.container.InputContainer, stream: av.video.VideoStream) -> None:
        # The reader owns the container: only this thread touches it, and it closes it.
        try:
            for unit in access_units(container, stream):
                with self._cond:
                    if self._stopping:
                        return
                    first = not self._gop
                    if unit.keyframe:
                        self._gop = [unit]
                    elif self._gop and len(self._gop) < MAX_GOP_UNITS:
                        self._gop.append(unit)
                    self._last_unit_at = unit.received_at
                    if first and self._gop:
                        self._cond.notify_all()  # only grab() waiting for a first keyframe cares
            raise StreamError(ErrorKind.ENDED, "the stream ended")
        except Exception as exc:
            with self._cond:
                self._error = classify(exc, self._url)
                self._cond.notify_all()
        finally:
            container.close()

    def grab(self) -> DecodedFrame:
        """The newest picture; waits up to the keyframe timeout for a first keyframe (while packets
        keep arriving within the read timeout)."""
        deadline = self._clock() + self._keyframe_timeout_s
        with self._cond:
            while True:
                if self._error is not None:
                    raise self._error
                if self._stopping or self._thread is None:
                    raise StreamError(ErrorKind.OTHER, "grabber is not connected")
                if (
                    self._last_unit_at is not None
                    and self._clock() - self._last_unit_at > self._read_timeout_s
                ):
                    raise StreamError(ErrorKind.TIMEOUT, f"no data for {self._read_timeout_s:g}s")
                if self._gop and self._gop[0] is not self._broken_key:
                    break
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise StreamError(ErrorKind.TIMEOUT, f"no keyframe within {self._keyframe_timeout_s:g}s")
                self._cond.wait(min(remaining, 0.25))
            gop = list(self._gop)
        key = gop[0]
        # The keyframe alone is the cheap answer; decode the GOP up to the newest picture only when
        # the keyframe is old, or a snapshot was already served from this GOP (time must not go back).
        fresh = self._clock() - key.received_at <= self._max_keyframe_age_s
        units = gop[:1] if fresh and key is not self._served_key else gop
        assert self._decoder is not None
        try:
            frame = self._decoder.decode_last(units)
        except StreamError:
            if self._served_key is None:
                # The first keyframe after connecting may be a fragment: wait for the next one
                # next time instead of reconnecting (which would only land mid-GOP again).
                self._broken_key = key
            raise
        self._served_key = key
        return frame

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._gop = []
            self._cond.notify_all()
        if self._thread is not None:
            # The reader notices the flag at its next packet, or its read timeout fires.
            self._thread.join(timeout=self._read_timeout_s + 1.0)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._error is None


def grab_on_demand(
    url: str,
    *,
    transport: Transport = Transport.TCP,
    open_timeout_s: float = 5.0,
    read_timeout_s: float = 5.0,
    keyframe_timeout_s: float = 30.0,
) -> tuple[DecodedFrame, StreamInfo]:
    """Connect, decode the first complete keyframe, disconnect. Bounded by the open timeout, the read
    timeout between packets and the keyframe timeout overall."""
    container, stream = open_container(
        url, transport=transport, open_timeout_s=open_timeout_s, read_timeout_s=read_timeout_s
    )
    try:
        wait = max(keyframe_timeout_s, read_timeout_s)
        frame = first_keyframe(access_units(container, stream), FrameDecoder(stream), url=url, timeout_s=wait)
        return frame, stream_info(stream)
    finally:
        container.close()
