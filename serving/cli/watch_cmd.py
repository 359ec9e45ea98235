"""``hazardeye watch VIDEO_OR_RTSP_URL --region NAME:x1,y1,x2,y2 [...]``: watched regions offline
(a region may also be a polygon: ``NAME:x1,y1,x2,y2,x3,y3,...``).

Replays a recorded video (or reads a stream) through the same engine as the cameras
(``vision.watch``) and prints one JSON object per event: ``{"region", "kind", "at_s", "score"}`` with
``kind`` ``leak.suspected`` or ``camera.view_changed`` (region ``*``), and ``camera.stream_lost`` when a
stream stops delivering frames. People the PPE model finds are occluders (``--no-people`` skips it).
Exit codes: 0 it ran, 2 bad input (a region that is degenerate or outside the frame, a source that
cannot be opened or decoded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

import av
import numpy as np
import numpy.typing as npt
import typer

from serving.bootstrap import build_model_registry
from serving.settings import load_settings
from vision.detections import Box
from vision.onnx_detector import ModelError, OnnxDetector
from vision.ppe import person_boxes
from vision.watch import RegionKind, RegionWatcher, WatchedRegion, WatchEvent, WatchSettings

EXIT_OK, EXIT_BAD_INPUT = 0, 2
Image = npt.NDArray[np.uint8]


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_cmd)


def parse_region(text: str) -> WatchedRegion:
    """``NAME[:KIND]:x1,y1,x2,y2`` (a box) or ``NAME[:KIND]:x1,y1,x2,y2,x3,y3[,...]`` (a polygon of 3 or
    more points); kind: flange (default), valve, pump_seal, pipe_run, floor."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise typer.BadParameter(f"expected NAME:x1,y1,x2,y2 (or NAME:KIND:x1,y1,x2,y2), got {text!r}")
    try:
        kind = RegionKind(parts[1]) if len(parts) == 3 else RegionKind.FLANGE
    except ValueError:
        known = ", ".join(k.value for k in RegionKind)
        raise typer.BadParameter(f"unknown region kind {parts[1]!r} (known: {known})") from None
    try:
        values = [float(v) for v in parts[-1].split(",")]
    except ValueError:
        raise typer.BadParameter(f"expected pixel coordinates x1,y1,x2,y2[,...], got {parts[-1]!r}") from None
    if len(values) == 4:
        return WatchedRegion(parts[0], (values[0], values[1], values[2], values[3]), kind)
    if len(values) < 6 or len(values) % 2:
        raise typer.BadParameter(
            f"region {parts[0]!r}: 4 numbers (a box) or 3 or more x,y pairs (a polygon), got {len(values)}"
        )
    points = list(zip(values[0::2], values[1::2], strict=True))
    return WatchedRegion.of_polygon(parts[0], points, kind)


def _frames(source: str, interval_s: float) -> Iterator[tuple[float, Image]]:
    """Decoded frames at least ``interval_s`` apart, with their time into the source in seconds."""
    options = {"rtsp_transport": "tcp", "stimeout": "10000000"} if source.startswith("rtsp") else {}
    with av.open(source, options=options, timeout=15.0) as container:
        stream = next((s for s in container.streams if s.type == "video"), None)
        if stream is None:
            raise av.InvalidDataError(0, f"{source}: no video stream")
        next_at = 0.0
        for frame in container.decode(stream):
            if not isinstance(frame, av.VideoFrame) or frame.pts is None or frame.time_base is None:
                continue
            at = float(frame.pts * frame.time_base)
            if at + 1e-6 < next_at:
                continue
            next_at = at + interval_s
            yield at, np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def _people_finder(enabled: bool) -> OnnxDetector | None:
    """The PPE model, whose people are occluders (None when off or not installed)."""
    if not enabled:
        return None
    settings = load_settings()
    registry = build_model_registry(settings.vision, batch_size=1)
    try:
        return registry.detector(settings.vision.ppe_model)[1]
    except ModelError:
        return None


def _people(detector: OnnxDetector | None, image: Image) -> list[Box]:
    return person_boxes(detector.detect(image)) if detector is not None else []


def _lost(at_s: float, error: str) -> str:
    return json.dumps({"region": "*", "kind": "camera.stream_lost", "at_s": round(at_s, 2), "score": 1.0,
                       "error": error})  # fmt: skip


def _line(event: WatchEvent) -> str:
    return json.dumps({"region": event.region, "kind": event.kind.value, "at_s": round(event.at_s, 2),
                       "score": event.score})  # fmt: skip


def watch_cmd(
    source: Annotated[str, typer.Argument(help="A video file or an rtsp:// URL")],
    region: Annotated[
        list[str],
        typer.Option("--region", help="NAME[:KIND]:x1,y1,x2,y2 or a polygon x1,y1,...,xn,yn (repeatable)"),
    ],
    interval_s: Annotated[float, typer.Option("--interval-s", min=0.04, help="Seconds between frames")] = 5.0,
    persist_s: Annotated[
        float, typer.Option("--persist-s", min=0.0, help="How long a change must last to be a leak")
    ] = WatchSettings().persist_s,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line (default)")] = True,
    people: Annotated[
        bool, typer.Option("--people/--no-people", help="Skip frames where the PPE model sees a person there")
    ] = True,
) -> None:
    """Watch regions of a fixed camera's video for changes that persist (suspected leaks)."""
    try:
        regions = [parse_region(text) for text in region]
        watcher = RegionWatcher(regions, WatchSettings(persist_s=persist_s))
    except (typer.BadParameter, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    detector = _people_finder(people)
    seen = 0
    last_at = 0.0
    try:
        for at, image in _frames(source, interval_s):
            for event in watcher.feed(image, at, _people(detector, image)):
                typer.echo(
                    _line(event) if as_json else f"{event.at_s:.1f}s {event.region}: {event.kind.value}"
                )
            seen, last_at = seen + 1, at
    except (av.error.FFmpegError, OSError) as exc:  # before ValueError: av's data errors are ValueErrors
        if seen == 0:
            typer.echo(f"error: cannot read {source}: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from exc
        typer.echo(_lost(last_at, str(exc)))
        return
    except ValueError as exc:  # a region outside the frame: known only once the first frame is read
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    if seen == 0:
        typer.echo(f"error: {source} holds no decodable video frame", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    if source.startswith("rtsp"):  # a file ends; a camera that stops sending is lost, however politely
        typer.echo(_lost(last_at, "the stream ended"))
