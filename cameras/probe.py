"""``camera probe``: what an installer runs first — can we connect, what is the stream, one frame."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cameras.config import Transport
from cameras.quality import BgrFrame, QualityFlag, assess
from cameras.redact import redact_url
from cameras.stream import (
    FrameDecoder,
    access_units,
    first_keyframe,
    open_container,
    stream_info,
)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    url: str  # redacted
    codec: str
    width: int
    height: int
    fps: float | None
    connect_s: float
    first_frame_s: float  # from the start of the connection to the first decoded keyframe
    frame: BgrFrame
    flags: frozenset[QualityFlag]


def probe(url: str, *, transport: Transport = Transport.TCP, timeout_s: float = 10.0) -> ProbeResult:
    started = time.monotonic()
    container, stream = open_container(
        url, transport=transport, open_timeout_s=timeout_s, read_timeout_s=timeout_s
    )
    try:
        connected = time.monotonic()
        info = stream_info(stream)
        frame = first_keyframe(
            access_units(container, stream), FrameDecoder(stream), url=url, timeout_s=timeout_s
        )
        done = time.monotonic()
    finally:
        container.close()
    return ProbeResult(
        url=redact_url(url),
        codec=info.codec,
        width=info.width,
        height=info.height,
        fps=info.fps,
        connect_s=connected - started,
        first_frame_s=done - started,
        frame=frame.image,
        flags=assess(frame.image, previous_digest=None, decode_error=frame.decode_error).flags,
    )
