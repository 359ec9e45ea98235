"""``/api/v1/photos``: an inspector's field photo → findings and hazards (flow 2), and its result.

Embedded profile: the analysis runs inside the request (201 + result). Celery: 202 + a status URL to
poll. A replay (same bytes or same ``Idempotency-Key``) answers 200 with the recorded result.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, Request, Response, UploadFile
from pydantic import BaseModel, Field

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_body, error_doc
from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.photos import PhotoPipeline, PhotoUpload, UnsupportedMediaTypeError
from workflow.domain.roles import Actor, Role
from workflow.services.photos import PhotoStatus, PhotoView, get_photo

Box = Annotated[list[float], Field(min_length=4, max_length=4, description="x1, y1, x2, y2 in pixels")]


class GpsOut(BaseModel):
    lat: float
    lon: float


class DetectionOut(BaseModel):
    label: str
    confidence: float
    box: Box
    model: str = Field(description="name@version of the model that found it")


class FindingOut(BaseModel):
    kind: str = Field(description="e.g. ppe.no_helmet")
    confidence: float
    box: Box


class HazardLinkOut(BaseModel):
    hazard_id: int
    outcome: Literal["created", "appended", "reopened", "duplicate"]


class PhotoResultOut(BaseModel):
    photo_id: str = Field(description="sha256 hex of the stored original")
    status: PhotoStatus
    original_key: str
    annotated_key: str | None
    width: int
    height: int
    taken_at: str | None = Field(
        description="EXIF capture time, ISO 8601 (no offset when the photo has none)"
    )
    gps: GpsOut | None
    zone: str
    area: str | None
    equipment_id: str | None
    description: str | None
    uploaded_by: str
    received_at: datetime
    models: list[str]
    people: int
    detections: list[DetectionOut]
    findings: list[FindingOut]
    hazards: list[HazardLinkOut]
    error: str | None

    @classmethod
    def of(cls, v: PhotoView) -> PhotoResultOut:
        a = v.analysis
        gps = (
            GpsOut(lat=v.gps_lat, lon=v.gps_lon) if v.gps_lat is not None and v.gps_lon is not None else None
        )
        return cls(
            photo_id=v.photo_id,
            status=v.status,
            original_key=v.original_key,
            annotated_key=v.annotated_key,
            width=v.width,
            height=v.height,
            taken_at=v.taken_at,
            gps=gps,
            zone=v.zone,
            area=v.area,
            equipment_id=v.equipment_id,
            description=v.description,
            uploaded_by=v.uploaded_by,
            received_at=v.received_at,
            models=list(a.models) if a else [],
            people=a.people if a else 0,
            detections=[
                DetectionOut(label=d.label, confidence=d.confidence, box=list(d.box), model=d.model)
                for d in (a.detections if a else ())
            ],
            findings=[
                FindingOut(kind=f.kind, confidence=f.confidence, box=list(f.box))
                for f in (a.findings if a else ())
            ],
            hazards=[
                HazardLinkOut.model_validate({"hazard_id": h.hazard_id, "outcome": h.outcome})
                for h in (a.hazards if a else ())
            ],
            error=v.error,
        )


class PhotoQueuedOut(BaseModel):
    photo_id: str
    status: Literal["queued"] = "queued"
    status_url: str


UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    200: {"model": PhotoResultOut, "description": "A replay: the result recorded for the first upload"},
    202: {"model": PhotoQueuedOut, "description": "Celery profile: accepted and queued; poll status_url"},
    401: error_doc("Missing or unknown API key"),
    403: error_doc("The actor's role may not upload photos"),
    409: error_doc("The Idempotency-Key was already used for a different photo"),
    413: {"description": "The upload exceeds the size limit (refused while it streams in)"},
    415: error_doc("The declared content type is not an image type"),
    422: error_doc("Not a usable photo (empty, corrupt, unsupported format, too many pixels) or bad fields"),
    503: error_doc("The object store is unavailable; nothing was recorded, retry later"),
}

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/photos", tags=["photos"])


def unavailable(exc: ObjectStoreUnavailableError) -> HTTPException:
    log.warning("object store unavailable: %s", exc)  # its text names the endpoint: logged, not answered
    body = error_body(
        "object_store_unavailable", "object store unavailable, nothing was recorded; retry later"
    )
    return HTTPException(status_code=503, detail=body["detail"], headers={"Retry-After": "30"})


def unsupported(exc: UnsupportedMediaTypeError) -> HTTPException:
    return HTTPException(status_code=415, detail=error_body("unsupported_media_type", str(exc))["detail"])


@router.post("", response_model=PhotoResultOut, status_code=201, responses=UPLOAD_ERRORS)
def upload_photo(
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="JPEG, PNG or HEIC photo")],
    zone: Annotated[str, Form(min_length=1, max_length=64)],
    area: Annotated[str | None, Form(max_length=100)] = None,
    equipment_id: Annotated[str | None, Form(max_length=100)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    lat: Annotated[
        float | None, Form(description="browser GPS latitude; EXIF GPS is used when absent")
    ] = None,
    lon: Annotated[float | None, Form(description="browser GPS longitude")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
    actor: Actor = Depends(require_roles(Role.INSPECTOR, Role.SAFETY_ENGINEER)),
) -> PhotoResultOut | Response:
    """Upload a field photo; its findings become hazards with the photo as evidence."""
    container = container_of(request)
    upload = PhotoUpload(
        data=file.file.read(),
        filename=file.filename or "upload",
        content_type=file.content_type,
        zone=zone,
        uploaded_by=actor.name,
        area=area,
        equipment_id=equipment_id,
        description=description,
        lat=lat,
        lon=lon,
        idempotency_key=idempotency_key,
    )
    pipeline = PhotoPipeline(container)
    try:
        accepted = pipeline.accept(upload)
    except ObjectStoreUnavailableError as exc:
        raise unavailable(exc) from exc
    except UnsupportedMediaTypeError as exc:
        raise unsupported(exc) from exc
    photo = accepted.photo
    status_url = f"/api/v1/photos/{photo.photo_id}"
    if accepted.replay:
        response.status_code = 200
        return PhotoResultOut.of(photo)
    if not pipeline.inline:
        queued = PhotoQueuedOut(photo_id=photo.photo_id, status_url=status_url)
        return Response(
            queued.model_dump_json(), status_code=202, media_type="application/json",
            headers={"Location": status_url},
        )  # fmt: skip
    response.headers["Location"] = status_url
    return PhotoResultOut.of(photo)


@router.get(
    "/{photo_id}",
    response_model=PhotoResultOut,
    responses={401: error_doc("Missing or unknown API key"), 404: error_doc("No such photo")},
)
def photo_result(photo_id: str, request: Request, _actor: Actor = Depends(current_actor)) -> PhotoResultOut:
    """A photo's analysis result (poll while ``status`` is ``queued``)."""
    return PhotoResultOut.of(get_photo(container_of(request).workflow, photo_id))
