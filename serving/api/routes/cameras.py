"""``/api/v1/cameras``: health state, latest snapshot and latest findings per camera (from the board)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from serving.api.auth import current_actor
from serving.api.deps import container_of
from serving.api.errors import error_responses
from serving.api.routes.ops_common import ID_PATTERN, camera_board
from serving.api.sealed import SealedPendingError, shown_for
from serving.bootstrap import Container
from serving.objects import ObjectNotFoundError
from serving.pipelines.camera_board import CameraBoard, CameraStatus
from workflow.domain.errors import NotFound
from workflow.domain.roles import Actor

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
CameraId = Annotated[str, Path(pattern=ID_PATTERN)]


class CameraFindingOut(BaseModel):
    kind: str
    confidence: float
    box: tuple[float, float, float, float]
    zone: str


class CameraOut(BaseModel):
    id: str
    name: str
    zone: str
    state: str  # connecting | streaming | degraded | offline | disabled
    last_frame_at: datetime | None
    last_error: str | None
    snapshot_key: str | None
    annotated_key: str | None
    findings_last: list[CameraFindingOut]
    people_last: int | None
    inspected_at: datetime | None

    @classmethod
    def of(cls, row: CameraStatus) -> CameraOut:
        return cls(
            id=row.id,
            name=row.name,
            zone=row.zone,
            state=row.state.value,
            last_frame_at=row.last_frame_at,
            last_error=row.last_error,
            snapshot_key=row.snapshot_key,
            annotated_key=row.annotated_key,
            findings_last=[
                CameraFindingOut(kind=f.kind, confidence=f.confidence, box=f.box, zone=f.zone)
                for f in row.findings_last
            ],
            people_last=row.people_last,
            inspected_at=row.inspected_at,
        )


def _board(request_board: CameraBoard, container: Container) -> CameraBoard:
    request_board.merge_stored(container.workflow)  # inspections that ran on Celery workers
    return request_board


def monitored_camera(board: CameraBoard, camera_id: str) -> CameraStatus:
    """The camera's row on this server's board (404 for a camera it does not poll)."""
    row = board.get(camera_id)
    if row is None:
        raise NotFound(f"camera {camera_id} is not monitored by this server")
    return row


@router.get("", response_model=list[CameraOut], responses=error_responses())
def list_cameras(
    _actor: Actor = Depends(current_actor),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> list[CameraOut]:
    """Every camera this server polls, with its stream state and latest findings."""
    return [CameraOut.of(row) for row in _board(board, container).all()]


@router.get("/{camera_id}", response_model=CameraOut, responses=error_responses(404, 422))
def get_camera(
    camera_id: CameraId,
    _actor: Actor = Depends(current_actor),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> CameraOut:
    return CameraOut.of(monitored_camera(_board(board, container), camera_id))


@router.get(
    "/{camera_id}/snapshot",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "Latest frame"},
        **error_responses(404, 422),
    },
)
def camera_snapshot(
    camera_id: CameraId,
    actor: Actor = Depends(current_actor),
    board: CameraBoard = Depends(camera_board),
    container: Container = Depends(container_of),
) -> Response:
    """The camera's latest valid frame as JPEG (404 before the first frame). Where faces are blurred, a
    role that may not see originals gets the latest blurred frame (the last inspected one until the
    newest is inspected)."""
    row = monitored_camera(board, camera_id)
    if row.snapshot_key is None:
        raise NotFound(f"camera {camera_id} has no frame yet")
    headers = {"Cache-Control": "no-store"}
    try:
        shown = shown_for(container, row.snapshot_key, actor)
        key = shown.key
        if shown.faces is not None:
            headers["X-Hazardeye-Faces"] = shown.faces
    except SealedPendingError:
        if row.annotated_key is None:
            raise NotFound(f"camera {camera_id} has no frame with its faces blurred yet") from None
        key, headers["X-Hazardeye-Faces"] = row.annotated_key, "blurred"  # drawn on the blurred frame
    try:
        data = container.objects.get(key)
    except ObjectNotFoundError:
        raise NotFound(f"the latest frame of camera {camera_id} is no longer stored") from None
    return Response(data, media_type="image/jpeg", headers=headers)
