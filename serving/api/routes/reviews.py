"""``/api/v1/reviews``: the detection review queue (flow 6) and its export for retraining.

A safety engineer confirms or corrects each analysed photo's boxes; ``/reviews/export`` lists the
reviewed photos as ``{photo_id, original_key, width, height, detections: [{label, box}]}``, the shape
``training.reviewed.ReviewedImage`` is built from (serving never imports training).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from serving.api.auth import require_roles
from serving.api.deps import container_of
from serving.api.errors import error_doc
from serving.api.params import Offset
from serving.api.routes.photos import Box, DetectionOut
from workflow.domain.roles import Actor, Role
from workflow.services.photos import (
    MAX_REVIEW_BOXES,
    PhotoView,
    ReviewedBox,
    ReviewView,
    list_reviews,
    review_queue,
    save_review,
)

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])
_engineer = require_roles(Role.SAFETY_ENGINEER)


class QueueItemOut(BaseModel):
    photo_id: str
    original_key: str
    annotated_key: str | None
    width: int
    height: int
    zone: str
    received_at: datetime
    models: list[str]
    detections: list[DetectionOut]

    @classmethod
    def of(cls, v: PhotoView) -> QueueItemOut:
        a = v.analysis
        return cls(
            photo_id=v.photo_id,
            original_key=v.original_key,
            annotated_key=v.annotated_key,
            width=v.width,
            height=v.height,
            zone=v.zone,
            received_at=v.received_at,
            models=list(a.models) if a else [],
            detections=[
                DetectionOut(label=d.label, confidence=d.confidence, box=list(d.box), model=d.model)
                for d in (a.detections if a else ())
            ],
        )


class ReviewBoxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=64)
    box: Box


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    detections: list[ReviewBoxIn] = Field(
        max_length=MAX_REVIEW_BOXES, description="the full, corrected set; empty = no objects"
    )
    note: str | None = Field(None, max_length=2000)


class ReviewBoxOut(BaseModel):
    label: str
    box: Box


class ReviewedPhotoOut(BaseModel):
    photo_id: str
    original_key: str
    width: int
    height: int
    detections: list[ReviewBoxOut]
    note: str | None
    reviewed_by: str
    reviewed_at: datetime

    @classmethod
    def of(cls, v: ReviewView) -> ReviewedPhotoOut:
        return cls(
            photo_id=v.photo_id,
            original_key=v.original_key,
            width=v.width,
            height=v.height,
            detections=[ReviewBoxOut(label=b.label, box=list(b.box)) for b in v.detections],
            note=v.note,
            reviewed_by=v.reviewed_by,
            reviewed_at=v.reviewed_at,
        )


_AUTH: dict[int | str, dict[str, object]] = {
    401: error_doc("Missing or unknown API key"),
    403: error_doc("Only safety engineers review detections"),
}


@router.get("", response_model=list[QueueItemOut], responses=_AUTH)
def queue(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50, _actor: Actor = Depends(_engineer)
) -> list[QueueItemOut]:
    """Analysed photos whose detections nobody has reviewed yet, newest first."""
    return [QueueItemOut.of(v) for v in review_queue(container_of(request).workflow, limit)]


@router.get("/export", response_model=list[ReviewedPhotoOut], responses=_AUTH)
def export(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Offset = 0,
    _actor: Actor = Depends(_engineer),
) -> list[ReviewedPhotoOut]:
    """Reviewed photos with their confirmed boxes, oldest review first (page with limit/offset)."""
    return [ReviewedPhotoOut.of(v) for v in list_reviews(container_of(request).workflow, limit, offset)]


@router.post(
    "/{photo_id}",
    response_model=ReviewedPhotoOut,
    responses={
        **_AUTH,
        404: error_doc("No such photo"),
        422: error_doc("A box is malformed or outside the image"),
    },
)
def review(
    photo_id: str, body: ReviewIn, request: Request, actor: Actor = Depends(_engineer)
) -> ReviewedPhotoOut:
    """Store the confirmed/corrected boxes of one photo (a later review replaces an earlier one)."""
    boxes = [ReviewedBox(b.label, (b.box[0], b.box[1], b.box[2], b.box[3])) for b in body.detections]
    view = save_review(container_of(request).workflow, photo_id, boxes, body.note, actor.name)
    return ReviewedPhotoOut.of(view)
