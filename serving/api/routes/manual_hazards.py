"""``POST /api/v1/hazards``: an inspector registers a hazard by hand, optionally with a photo.

The report is a MANUAL observation, so it follows the same intake rules as detector findings (grading,
de-duplication per kind/zone/equipment, repeats). ``Idempotency-Key`` makes a retried submit safe.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile

from serving.api.auth import require_roles
from serving.api.errors import error_doc
from serving.api.routes.hazards import HazardOut
from serving.api.routes.photos import unavailable, unsupported
from serving.bootstrap import Container
from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.faces import seal_stored_photo
from serving.pipelines.photos import UnsupportedMediaTypeError, intake_upload, store_object
from workflow.domain.errors import InvalidInput
from workflow.domain.observations import PPE_OK_KIND, IngestStatus, Observation, SourceKind
from workflow.domain.roles import Actor, Role
from workflow.services.hazards import ingest_observation
from workflow.services.queries import hazard_detail

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])


@router.post(
    "",
    response_model=HazardOut,
    status_code=201,
    responses={
        200: {"model": HazardOut, "description": "A replay (same Idempotency-Key): the hazard it filed"},
        401: error_doc("Missing or unknown API key"),
        403: error_doc("The actor's role may not report hazards"),
        413: {"description": "The upload exceeds the size limit (refused while it streams in)"},
        415: error_doc("The photo's declared content type is not an image type"),
        422: error_doc("Invalid kind or fields, or an unusable photo"),
        503: error_doc("The object store is unavailable; nothing was recorded"),
    },
)
def report_hazard(
    request: Request,
    response: Response,
    kind: Annotated[str, Form(min_length=3, max_length=100, description="e.g. manual.housekeeping")],
    zone: Annotated[str, Form(min_length=1, max_length=64)],
    description: Annotated[str, Form(min_length=1, max_length=4000)],
    area: Annotated[str | None, Form(max_length=100)] = None,
    equipment_id: Annotated[str | None, Form(max_length=100)] = None,
    likelihood: Annotated[int | None, Form(ge=1, le=5)] = None,
    severity: Annotated[int | None, Form(ge=1, le=5)] = None,
    file: Annotated[UploadFile | None, File(description="optional photo (JPEG, PNG, HEIC)")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
    actor: Actor = Depends(require_roles(Role.INSPECTOR, Role.SAFETY_ENGINEER)),
) -> HazardOut:
    """Register a hazard found on an inspection round; the photo (if any) becomes its first evidence."""
    container: Container = request.app.state.container
    if not description.strip():
        raise InvalidInput("description must not be empty")
    if kind.strip() == PPE_OK_KIND:
        raise InvalidInput(f"{PPE_OK_KIND!r} only counts towards PPE compliance; it is not a hazard")
    evidence: tuple[str, ...] = ()
    if file is not None:
        try:
            intake = intake_upload(container, file.file.read(), file.filename or "upload", file.content_type)
            evidence = (store_object(container, intake.stored_bytes, intake.stored_media_type),)
            seal_stored_photo(container, evidence[0], intake.stored_bytes, zone.strip())
        except ObjectStoreUnavailableError as exc:
            raise unavailable(exc) from exc
        except UnsupportedMediaTypeError as exc:
            raise unsupported(exc) from exc
    ctx = container.workflow
    # The key is scoped to the reporter, so two inspectors' clients cannot collide.
    scoped = f"{actor.name}|{idempotency_key}" if idempotency_key else uuid.uuid4().hex
    obs = Observation(
        observation_id=f"manual:{hashlib.sha256(scoped.encode()).hexdigest()}",
        kind=kind.strip(),
        confidence=1.0,
        zone=zone.strip(),
        source_kind=SourceKind.MANUAL,
        source_id=actor.name,
        observed_at=ctx.clock.now(),
        evidence_keys=evidence,
        equipment_id=(equipment_id or "").strip() or None,
        area=(area or "").strip() or None,
        description=description.strip(),
        reported_by=actor.name,
        likelihood=likelihood,
        severity=severity,
    )
    result = ingest_observation(ctx, obs)
    if result.hazard_id is None:  # below the intake threshold cannot happen at confidence 1.0
        raise InvalidInput(f"kind {kind!r} opens no hazard")
    if result.status is IngestStatus.DUPLICATE:
        response.status_code = 200
    return HazardOut.of(hazard_detail(ctx, result.hazard_id).hazard, ctx.clock.now())
