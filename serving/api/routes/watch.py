"""``/api/v1/cameras/{id}/watch``: a camera's watched regions (leak watching), from its camera file or set
here. Regions set here replace the file's for that camera (an empty list watches nothing) until deleted;
the camera monitor picks a change up within ``serving.pipelines.watched_regions.REFRESH_S``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cameras.config import MAX_WATCH_REGIONS, WatchRegionConfig, unique_watch_regions
from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.routes.cameras import CameraId, monitored_camera
from serving.api.routes.ops_common import camera_board
from serving.bootstrap import Container
from serving.pipelines.camera_board import CameraBoard, CameraStatus
from vision.watch import RegionKind
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Actor, Role
from workflow.services.watch_regions import (
    StoredWatch,
    WatchRegionSpec,
    clear_watch_regions,
    set_watch_regions,
    stored_watch,
)

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])


class WatchIn(BaseModel):
    """The camera's watched regions, replacing its camera file's (``[]``: watch nothing). Each region is
    checked as in the camera file: a polygon of 3 to 256 non-negative points in frame pixels whose box is
    at least 8 × 8, names unique; once the camera has sent a frame, inside that frame."""

    model_config = ConfigDict(extra="forbid")

    regions: list[WatchRegionConfig] = Field(max_length=MAX_WATCH_REGIONS)

    @field_validator("regions")
    @classmethod
    def _unique(cls, regions: list[WatchRegionConfig]) -> list[WatchRegionConfig]:
        unique_watch_regions(regions)
        return regions


class WatchRegionOut(BaseModel):
    name: str
    kind: RegionKind
    points: list[tuple[float, float]]


class FrameSizeOut(BaseModel):
    width: int
    height: int


class WatchOut(BaseModel):
    camera_id: str
    source: Literal["file", "api"]  # api: set through this route, replacing the camera file's regions
    regions: list[WatchRegionOut]
    frame: FrameSizeOut | None  # the size of the camera's latest snapshot (null before its first)
    updated_at: datetime | None  # null for the camera file's regions
    updated_by: str | None

    @classmethod
    def of(cls, row: CameraStatus, stored: StoredWatch | None) -> WatchOut:
        frame = (
            None
            if row.frame_size is None
            else FrameSizeOut(width=row.frame_size[0], height=row.frame_size[1])
        )
        if stored is None:
            regions = [WatchRegionOut(name=r.name, kind=r.kind, points=list(r.points)) for r in row.watch]
            return cls(
                camera_id=row.id,
                source="file",
                regions=regions,
                frame=frame,
                updated_at=None,
                updated_by=None,
            )
        regions = [
            WatchRegionOut(name=r.name, kind=RegionKind(r.kind), points=list(r.points))
            for r in stored.regions
        ]
        return cls(
            camera_id=row.id,
            source="api",
            regions=regions,
            frame=frame,
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
        )


def _fits_frame(regions: list[WatchRegionConfig], frame: tuple[int, int] | None) -> None:
    """``WatchedRegion.check`` each region against the camera's frame. Before its first frame the size is
    unknown: then only the frame-independent rules (a polygon enclosing at least 64 px²) apply, checked
    against a frame just large enough for the region (the monitor refuses one outside the real frame)."""
    for config in regions:
        region = config.region()
        width, height = frame if frame is not None else (math.ceil(region.box[2]), math.ceil(region.box[3]))
        try:
            region.check(width, height)
        except ValueError as exc:  # the message names the region
            raise InvalidInput(str(exc)) from None


@router.get("/{camera_id}/watch", response_model=WatchOut, responses=error_responses(404, 422))
def get_watch(
    camera_id: CameraId,
    _actor: Actor = Depends(current_actor),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> WatchOut:
    """The camera's watched regions in effect: set through the API (``source: api``) or from its camera
    file, and the size of its latest snapshot (the pixel space of the points)."""
    row = monitored_camera(board, camera_id)
    return WatchOut.of(row, stored_watch(container.workflow, camera_id))


@router.put("/{camera_id}/watch", response_model=WatchOut, responses=error_responses(403, 404, 422))
def put_watch(
    camera_id: CameraId,
    body: WatchIn,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> WatchOut:
    """Replace the camera's watched regions (safety engineer; audited). A changed region relearns its
    appearance from the camera's next frames."""
    row = monitored_camera(board, camera_id)
    _fits_frame(body.regions, row.frame_size)
    specs = [WatchRegionSpec(r.name, r.kind.value, r.points) for r in body.regions]
    return WatchOut.of(row, set_watch_regions(container.workflow, camera_id, specs, actor))


@router.delete(
    "/{camera_id}/watch",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "The camera file's regions apply again"},
        **error_responses(403, 404, 422),
    },
)
def delete_watch(
    camera_id: CameraId,
    actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER)),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> Response:
    """Drop the regions set through the API: the camera file's apply again (safety engineer; audited)."""
    monitored_camera(board, camera_id)
    clear_watch_regions(container.workflow, camera_id, actor)
    return Response(status_code=204)
