"""Camera definitions: validated, frozen config loaded from one YAML or JSON file.

Validation errors are re-worded without the offending input values: a URL with a password in it
must not be echoed back into a log by a pydantic error message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cameras.redact import redact_url
from vision.watch import RegionKind, WatchedRegion

_URL_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://")


class CameraConfigError(ValueError):
    """The camera file is missing, unparsable or invalid; the message is safe to log."""


class Transport(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class CaptureMode(StrEnum):
    AUTO = "auto"  # persistent when interval_s <= persistent_max_interval_s, else on demand
    PERSISTENT = "persistent"
    ON_DEMAND = "on_demand"


# A camera's tiling as configured (vision.tiling.TilingMode, validated): off, auto, or a tile side in pixels.
TilingSetting = Literal["off", "auto"] | Annotated[int, Field(ge=64, le=8192)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZonePolygon(_Frozen):
    """A named area of the image (pixels of the camera frame) that rules such as permits refer to."""

    name: str = Field(min_length=1, max_length=64)
    points: tuple[tuple[float, float], ...] = Field(min_length=3, max_length=256)

    @field_validator("points")
    @classmethod
    def _non_negative(cls, points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        if not all(math.isfinite(v) for point in points for v in point):  # JSON bodies may carry NaN
            raise ValueError("polygon points must be finite numbers")
        if any(x < 0 or y < 0 for x, y in points):
            raise ValueError("polygon points must be non-negative image coordinates")
        return points


class WatchRegionConfig(ZonePolygon):
    """A region to watch for leaks (``vision.watch``): a polygon in frame pixels (only its inside is
    compared; the surroundings of its bounding box are the ring that tells the light), and what it is
    (which grades a suspected leak there)."""

    kind: RegionKind = RegionKind.FLANGE

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs, ys = [x for x, _ in self.points], [y for _, y in self.points]
        return (min(xs), min(ys), max(xs), max(ys))

    @model_validator(mode="after")
    def _not_degenerate(self) -> WatchRegionConfig:
        x1, y1, x2, y2 = self.box
        if x2 - x1 < 8 or y2 - y1 < 8:
            raise ValueError(f"watched region {self.name!r} spans {x2 - x1:g}×{y2 - y1:g} px; at least 8×8")
        return self

    def region(self) -> WatchedRegion:
        return WatchedRegion.of_polygon(self.name, self.points, self.kind)


def unique_watch_regions(regions: Sequence[WatchRegionConfig]) -> None:
    """Refuse two watched regions of one camera with the same name (a leak is filed under its region's
    name)."""
    names = [r.name for r in regions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate watched region names: {', '.join(duplicates)}")


MAX_WATCH_REGIONS = 64  # per camera


class CameraConfig(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=128)
    url: str = Field(min_length=8, max_length=2048)
    zone: str = Field(min_length=1, max_length=64)
    interval_s: float = Field(default=5.0, gt=0, le=86_400)
    enabled: bool = True
    models: tuple[str, ...] = ()
    polygons: tuple[ZonePolygon, ...] = ()
    watch: tuple[WatchRegionConfig, ...] = Field(default=(), max_length=MAX_WATCH_REGIONS)
    # Camera-scale inference: "off", "auto" (tiles when the frame is >= 2 model inputs long) or a tile side
    # in frame pixels. Tiling finds far-away heads at the price of one inference per tile.
    tiling: TilingSetting = "off"
    transport: Transport = Transport.TCP
    mode: CaptureMode = CaptureMode.AUTO
    persistent_max_interval_s: float = Field(default=30.0, gt=0)
    open_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # How long a new connection may wait for its first keyframe while packets keep arriving: cameras
    # whose keyframes come every 8-10 s are common (an NVR's "smart" codec stretches the GOP further).
    keyframe_timeout_s: float = Field(default=30.0, gt=0, le=300)

    @field_validator("watch")
    @classmethod
    def _unique_regions(cls, regions: tuple[WatchRegionConfig, ...]) -> tuple[WatchRegionConfig, ...]:
        unique_watch_regions(regions)
        return regions

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if not url.lower().startswith(_URL_SCHEMES):
            raise ValueError(f"url must start with one of {', '.join(_URL_SCHEMES)}")
        return url

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    @property
    def persistent(self) -> bool:
        """Keep the stream open between snapshots (cheap reconnects matter more than idle sockets)."""
        if self.mode is CaptureMode.AUTO:
            return self.interval_s <= self.persistent_max_interval_s
        return self.mode is CaptureMode.PERSISTENT

    def __repr_args__(self) -> Any:
        # repr() and logs of a config object must not reveal the password in the URL.
        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "url" else value)


class CamerasFile(_Frozen):
    cameras: tuple[CameraConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> CamerasFile:
        ids = [c.id for c in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate camera ids: {', '.join(duplicates)}")
        return self


def parse_cameras(raw: object, *, source: str = "<cameras>") -> tuple[CameraConfig, ...]:
    """Validate already-parsed YAML/JSON data (a mapping with a ``cameras`` list, or a bare list)."""
    data = {"cameras": raw} if isinstance(raw, list) else raw
    try:
        return CamerasFile.model_validate(data).cameras
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise CameraConfigError(f"{source}: invalid camera config: {problems}") from None


def load_cameras(path: Path) -> tuple[CameraConfig, ...]:
    """Read camera definitions from ``path`` (``.json``, else YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CameraConfigError(f"{path}: cannot read camera config ({exc})") from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CameraConfigError(f"{path}: not valid {path.suffix or 'YAML'}: {first_line}") from None
    return parse_cameras(raw if raw is not None else [], source=str(path))
