"""PyAV plumbing shared by the grabbers: open with timeouts, classify errors, assemble access units.

Every FFmpeg call here is bounded: PyAV's ``timeout=(open, read)`` installs an interrupt callback,
and the RTSP socket timeout is set as well, so a dead or stalled camera raises instead of hanging.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from time import monotonic

import av
import av.container
import av.video
import numpy as np

from cameras.config import Transport
from cameras.quality import BgrFrame
from cameras.redact import scrub


class ErrorKind(StrEnum):
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    TIMEOUT = "timeout"
    NO_VIDEO = "no_video"
    DECODE = "decode"
    ENDED = "ended"
    OTHER = "other"


class StreamError(Exception):
    """A camera could not deliver a frame; ``str()`` is one line with credentials scrubbed."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class StreamInfo:
    codec: str
    width: int
    height: int
    fps: float | None
    time_base: Fraction | None


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """All packets of one picture (cameras may send one slice per packet), as one decodable unit."""

    data: bytes
    pts: int | None
    keyframe: bool
    received_at: float  # monotonic seconds
    corrupt: bool = False  # the demuxer saw damage (lost RTP packets) in this picture


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    image: BgrFrame
    pts: int | None
    pts_s: float | None
    decode_error: bool


# Enough to bound memory for a long GOP at high bitrate; older units are dropped (and decoding
# then falls back to the keyframe alone).
MAX_GOP_UNITS = 600
# Cameras that report absurd sizes are refused before a decoder allocates for them.
MAX_PIXELS = 8192 * 8192

_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]+")
_UNAUTHORIZED = re.compile(r"\b(401|403|unauthorized|forbidden)\b")
_NOT_FOUND = re.compile(r"\b(404|not found)\b")


def classify(exc: BaseException, url: str) -> StreamError:
    """Map PyAV/OS errors to a small set of kinds the health table and the CLI can explain."""
    text = scrub(" ".join(str(exc).split()) or type(exc).__name__, url)
    code = getattr(exc, "errno", None)
    # FFmpeg quotes the URL: its port or path must not read as a status code (":36403" is no 403).
    lowered = _URL_IN_TEXT.sub(" ", text).lower()
    if isinstance(exc, StreamError):
        return exc
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return StreamError(ErrorKind.REFUSED, text)
    if _UNAUTHORIZED.search(lowered):
        return StreamError(ErrorKind.UNAUTHORIZED, text)
    if _NOT_FOUND.search(lowered):
        return StreamError(ErrorKind.NOT_FOUND, text)
    if (
        isinstance(exc, TimeoutError | av.ExitError)
        or code in (errno.ETIMEDOUT, errno.EAGAIN)
        or "timed out" in lowered
        or "immediate exit" in lowered
    ):
        return StreamError(ErrorKind.TIMEOUT, text)
    if isinstance(exc, av.EOFError):
        return StreamError(ErrorKind.ENDED, text)
    if isinstance(exc, av.InvalidDataError):
        return StreamError(ErrorKind.DECODE, text)
    return StreamError(ErrorKind.OTHER, text)


def open_container(
    url: str, *, transport: Transport, open_timeout_s: float, read_timeout_s: float
) -> tuple[av.container.InputContainer, av.video.VideoStream]:
    options = {
        "rtsp_transport": transport.value,
        # RTSP socket I/O timeout in microseconds; the interrupt callback below is the backstop.
        "timeout": str(int(read_timeout_s * 1_000_000)),
        # Stream parameters come from the SDP; probing the stream would cost seconds per connect.
        "analyzeduration": "0",
        "probesize": "32",
    }
    started = monotonic()
    try:
        container = av.open(url, mode="r", options=options, timeout=(open_timeout_s, read_timeout_s))
    except Exception as exc:
        error = classify(exc, url)
        if error.kind in (ErrorKind.DECODE, ErrorKind.OTHER) and monotonic() - started >= 0.9 * min(
            open_timeout_s, read_timeout_s
        ):
            # A server that accepts the socket but never answers makes FFmpeg's RTSP client give up
            # with "invalid data" once its socket timeout fires: that is a timeout, not bad data.
            error = StreamError(ErrorKind.TIMEOUT, f"no answer within {open_timeout_s:g}s ({error})")
        raise error from None
    try:
        if not container.streams.video:
            raise StreamError(ErrorKind.NO_VIDEO, "the stream has no video track")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:
            raise StreamError(ErrorKind.OTHER, f"absurd resolution {width}x{height}")
    except BaseException:
        container.close()
        raise
    return container, stream


def stream_info(stream: av.video.VideoStream) -> StreamInfo:
    rate = stream.average_rate or stream.guessed_rate
    return StreamInfo(
        codec=stream.codec_context.name,
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=float(rate) if rate else None,
        time_base=stream.time_base,
    )


def access_units(
    container: av.container.InputContainer, stream: av.video.VideoStream
) -> Iterator[AccessUnit]:
    """Demux ``stream`` into access units: consecutive packets sharing one pts form one picture.

    A unit is yielded when the next one starts, so every yielded unit is complete. Packets without a
    pts are glued to the following packet (the depacketiser emits parameter sets/SEI that way).
    """
    parts: list[bytes] = []
    pts: int | None = None
    key = corrupt = False
    started = 0.0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        if parts and packet.pts is not None and pts is not None and packet.pts != pts:
            yield AccessUnit(b"".join(parts), pts, key, started, corrupt)
            parts, key, corrupt = [], False, False
        if not parts:
            started = monotonic()
        parts.append(bytes(packet))
        key = key or bool(packet.is_keyframe)
        corrupt = corrupt or bool(packet.is_corrupt)
        if packet.pts is not None:
            pts = packet.pts
    if parts:
        yield AccessUnit(b"".join(parts), pts, key, started, corrupt)


def first_keyframe(
    units: Iterable[AccessUnit], decoder: FrameDecoder, *, url: str, timeout_s: float
) -> DecodedFrame:
    """Decode the first keyframe that decodes. A client that joins mid-stream can receive the tail
    of a keyframe as its first unit; that one fails and the next keyframe (one GOP later) is used."""
    deadline = monotonic() + timeout_s
    failure: StreamError | None = None
    try:
        for unit in units:
            if unit.keyframe:
                try:
                    return decoder.decode_last([unit])
                except StreamError as exc:
                    failure = exc
            if monotonic() > deadline:
                break
    except StreamError:
        raise
    except Exception as exc:
        raise classify(exc, url) from None
    if failure is not None:
        raise failure
    raise StreamError(ErrorKind.TIMEOUT, f"no keyframe within {timeout_s:g}s")


class FrameDecoder:
    """A private decoder per camera, reset before each snapshot so no stale references leak in."""

    def __init__(self, stream: av.video.VideoStream) -> None:
        ctx = av.CodecContext.create(stream.codec_context.name, "r")
        if not isinstance(ctx, av.VideoCodecContext):
            raise StreamError(ErrorKind.NO_VIDEO, f"{stream.codec_context.name} is not a video codec")
        self._ctx = ctx
        if stream.codec_context.extradata:
            self._ctx.extradata = stream.codec_context.extradata
        self._ctx.thread_count = 1  # one core per camera is plenty for a snapshot; keeps CPU predictable
        self._time_base = stream.time_base
        self._used = False

    def decode_last(self, units: list[AccessUnit]) -> DecodedFrame:
        """Decode ``units`` (starting at a keyframe) and return the last picture."""
        if self._used:
            self._ctx.flush_buffers()
        self._used = True
        last: av.VideoFrame | None = None
        errors = 0
        for unit in units:
            errors += unit.corrupt
            packet = av.Packet(unit.data)
            packet.pts = unit.pts
            try:
                for frame in self._ctx.decode(packet):
                    last = frame
            except (av.InvalidDataError, ValueError):
                errors += 1
        try:
            for frame in self._ctx.decode(None):  # drain: a decoder may hold the newest picture back
                last = frame
        except (av.InvalidDataError, ValueError, av.EOFError):
            errors += 1
        if last is None:
            raise StreamError(ErrorKind.DECODE, f"no picture decoded from {len(units)} access unit(s)")
        errors += bool(last.is_corrupt)  # the decoder concealed damage: pixels are partly invented
        pts = last.pts
        pts_s = float(pts * self._time_base) if pts is not None and self._time_base else None
        return DecodedFrame(_to_bgr(last), pts, pts_s, decode_error=errors > 0)


def _to_bgr(frame: av.VideoFrame) -> BgrFrame:
    image: BgrFrame = np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    image.setflags(write=False)
    return image
