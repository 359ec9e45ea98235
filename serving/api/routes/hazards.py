"""``/api/v1/hazards``: list (overdue first), detail (evidence + events), lifecycle steps, rectification
with before/after verification, the ledger (台账) export and the repeat-hazard report.

Each step's roles come from the workflow's transition table, so the HTTP check and the domain agree.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field, JsonValue

from serving.api.auth import current_actor, require_roles
from serving.api.deps import container_of
from serving.api.errors import error_responses as errors
from serving.api.params import MAX_ROW_ID, Offset
from serving.api.routes.hazard_ledger import is_overdue, ledger_csv, ledger_xlsx
from serving.api.routes.photos import unavailable, unsupported
from serving.objects import ObjectStoreError, validate_key
from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.faces import seal_stored_photo
from serving.pipelines.photos import UnsupportedMediaTypeError, intake_upload, store_object
from serving.pipelines.verification import TASK_NAME, VerifyTask, verify_rectification
from workflow.domain.errors import InvalidInput
from workflow.domain.evidence import Verdict
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import (
    TRANSITIONS,
    Action,
    HazardState,
    authorise,
    edge_for,
    parse_state,
)
from workflow.domain.observations import SourceKind
from workflow.domain.roles import Actor, Role
from workflow.services import hazards as flow
from workflow.services.context import WorkflowContext
from workflow.services.queries import MAX_PAGE, HazardFilter, hazard_detail, list_hazards, repeat_report
from workflow.services.verification import verification_subject
from workflow.services.views import EventView, EvidenceView, HazardView

MAX_AFTER_PHOTOS = 10


class HazardOut(BaseModel):
    id: int
    kind: str
    title: str
    state: HazardState
    level: RiskLevel
    likelihood: int
    severity: int
    zone: str
    area: str
    equipment_id: str | None
    source_kind: SourceKind
    source_id: str
    description: str | None
    discovered_at: datetime
    respond_by: datetime
    fix_by: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    overdue: bool = Field(description="past the response or fix deadline that applies in this state")
    escalation_level: int
    repeat_flag: bool
    evidence_count: int
    reopen_count: int
    version: int = Field(description="send it back as `version` to refuse a step on a stale view (409)")
    assignee: str | None = Field(None, description="from the latest dispatch; filled in the detail only")

    @classmethod
    def of(cls, v: HazardView, now: datetime, assignee: str | None = None) -> HazardOut:
        lines = (v.description or "").strip().splitlines()
        title = lines[0][:120] if lines else v.kind
        return cls(
            id=v.id,
            kind=v.kind,
            title=title,
            state=v.state,
            level=v.level,
            likelihood=v.likelihood,
            severity=v.severity,
            zone=v.zone,
            area=v.area,
            equipment_id=v.equipment_id,
            source_kind=v.source_kind,
            source_id=v.source_id,
            description=v.description,
            discovered_at=v.discovered_at,
            respond_by=v.respond_by,
            fix_by=v.fix_by,
            last_seen_at=v.last_seen_at,
            closed_at=v.closed_at,
            overdue=is_overdue(v, now),
            escalation_level=v.escalation_level,
            repeat_flag=v.repeat_flag,
            evidence_count=v.evidence_count,
            reopen_count=v.reopen_count,
            version=v.version,
            assignee=assignee,
        )


class HazardPageOut(BaseModel):
    items: list[HazardOut]
    total: int
    limit: int
    offset: int


class EvidenceOut(BaseModel):
    seq: int
    kind: str
    object_keys: list[str]
    by: str
    at: datetime
    payload: dict[str, JsonValue] | None

    @classmethod
    def of(cls, e: EvidenceView) -> EvidenceOut:
        data = json.loads(e.payload) if e.payload else None
        return cls(
            seq=e.seq,
            kind=e.kind.value,
            object_keys=list(e.object_keys),
            by=e.created_by,
            at=e.at,
            payload=data if isinstance(data, dict) else None,
        )


class EventOut(BaseModel):
    from_state: HazardState | None
    to_state: HazardState
    action: str
    by: str
    role: str
    at: datetime
    reason: str | None

    @classmethod
    def of(cls, e: EventView) -> EventOut:
        return cls(
            from_state=e.from_state,
            to_state=e.to_state,
            action=e.action,
            by=e.actor_name,
            role=e.actor_role,
            at=e.at,
            reason=e.reason,
        )


class HazardDetailOut(BaseModel):
    hazard: HazardOut
    evidence: list[EvidenceOut]
    events: list[EventOut]


class VersionIn(BaseModel):
    version: int | None = Field(None, description="the version the client saw; 409 when it changed")


class DispatchIn(VersionIn):
    assignee: str = Field(min_length=1, max_length=100)


class ReviewIn(VersionIn):
    approve: bool
    reason: str | None = Field(None, max_length=2000)


class CloseIn(VersionIn):
    override_reason: str | None = Field(
        None, max_length=2000, description="required (reviewer/admin) when the latest verification failed"
    )


class ReopenIn(VersionIn):
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    object_keys: list[str] = Field(default_factory=list, max_length=20)


class NoteOut(BaseModel):
    seq: int


class VerificationOut(BaseModel):
    verdict: Verdict
    match_score: float
    inliers: int
    hazard_score: float | None
    side_by_side_key: str | None
    reasons: list[str]
    regions_checked: int = Field(description="detections of the hazard compared with the after photos")
    regions_resolved: int | None = Field(description="how many of them are fixed; the verdict is the worst's")


class RectifyOut(BaseModel):
    hazard: HazardOut
    verification: VerificationOut | None = Field(description="null when queued (Celery): see the detail")
    verification_queued: bool


class RepeatOut(BaseModel):
    kind: str
    area: str
    equipment_id: str | None
    unresolved: int
    in_window: int
    hazard_ids: list[int]


def _roles(*actions: Action) -> tuple[Role, ...]:
    return tuple(sorted({r for e in TRANSITIONS if e.action in actions for r in e.roles}))


def _ctx(request: Request) -> WorkflowContext:
    return container_of(request).workflow


def _out(ctx: WorkflowContext, view: HazardView) -> HazardOut:
    return HazardOut.of(view, ctx.clock.now())


def _assignee(events: tuple[EventView, ...]) -> str | None:
    for e in reversed(events):
        if e.action == Action.DISPATCH.value and e.reason and e.reason.startswith("assigned to "):
            return e.reason.removeprefix("assigned to ")
    return None


def _filter(
    state: list[str], level: list[str], area: str | None, zone: str | None, kind: str | None, overdue: bool
) -> HazardFilter:
    states = tuple(parse_state(s) for part in state for s in part.split(",") if s)
    try:
        levels = tuple(RiskLevel(lv) for part in level for lv in part.split(",") if lv)
    except ValueError:
        raise InvalidInput(f"unknown level in {level}; known: {[lv.value for lv in RiskLevel]}") from None
    return HazardFilter(states, levels, area, zone, kind, overdue)


HazardId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="hazard id")]
StateQ = Annotated[list[str], Query(description="one or more states (repeat or comma-separate)")]
LevelQ = Annotated[list[str], Query(description="red, orange, yellow, blue (repeat or comma-separate)")]

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])


@router.get("", response_model=HazardPageOut, responses=errors(422))
def list_route(
    request: Request,
    state: StateQ = [],  # noqa: B006 - FastAPI copies query defaults
    level: LevelQ = [],  # noqa: B006
    area: str | None = None,
    zone: str | None = None,
    kind: str | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Offset = 0,
    _actor: Actor = Depends(current_actor),
) -> HazardPageOut:
    """Hazards, the most overdue (earliest fix deadline) first, then by id."""
    ctx = _ctx(request)
    page = list_hazards(ctx, _filter(state, level, area, zone, kind, overdue), offset=offset, limit=limit)
    now = ctx.clock.now()
    return HazardPageOut(
        items=[HazardOut.of(v, now) for v in page.items], total=page.total, limit=limit, offset=offset
    )


_LEDGER_DOC = "The hazard ledger (台账) with the list's filters; `lang=zh` (default) or `en` headers."


@router.get(
    "/export.csv",
    response_class=Response,
    responses={**errors(422), 200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with BOM"}},
)
def export_csv(
    request: Request,
    state: StateQ = [],  # noqa: B006
    level: LevelQ = [],  # noqa: B006
    area: str | None = None,
    zone: str | None = None,
    kind: str | None = None,
    overdue: bool = False,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    _actor: Actor = Depends(current_actor),
) -> Response:
    ctx = _ctx(request)
    plant = request.app.state.container.settings.plant_zone
    body = ledger_csv(ctx, _filter(state, level, area, zone, kind, overdue), lang, plant)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="hazard-ledger.csv"'},
    )


export_csv.__doc__ = _LEDGER_DOC
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={**errors(422), 200: {"content": {_XLSX: {}}, "description": "Excel workbook"}},
)
def export_xlsx(
    request: Request,
    state: StateQ = [],  # noqa: B006
    level: LevelQ = [],  # noqa: B006
    area: str | None = None,
    zone: str | None = None,
    kind: str | None = None,
    overdue: bool = False,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    _actor: Actor = Depends(current_actor),
) -> Response:
    ctx = _ctx(request)
    plant = request.app.state.container.settings.plant_zone
    body = ledger_xlsx(ctx, _filter(state, level, area, zone, kind, overdue), lang, plant)
    return Response(
        body, media_type=_XLSX, headers={"Content-Disposition": 'attachment; filename="hazard-ledger.xlsx"'}
    )


export_xlsx.__doc__ = _LEDGER_DOC


@router.get("/repeats", response_model=list[RepeatOut], responses=errors())
def repeats_route(request: Request, _actor: Actor = Depends(current_actor)) -> list[RepeatOut]:
    """Kinds recurring at one equipment/area under the repeat rule: root-cause candidates."""
    return [
        RepeatOut(
            kind=r.kind,
            area=r.area,
            equipment_id=r.equipment_id,
            unresolved=r.unresolved,
            in_window=r.in_window,
            hazard_ids=list(r.hazard_ids),
        )
        for r in repeat_report(_ctx(request))
    ]


@router.get("/{hazard_id}", response_model=HazardDetailOut, responses=errors(404))
def detail_route(
    hazard_id: HazardId, request: Request, _actor: Actor = Depends(current_actor)
) -> HazardDetailOut:
    """The hazard with its evidence timeline (photos, verification, overrides, notes) and every step."""
    ctx = _ctx(request)
    d = hazard_detail(ctx, hazard_id)
    return HazardDetailOut(
        hazard=HazardOut.of(d.hazard, ctx.clock.now(), _assignee(d.events)),
        evidence=[EvidenceOut.of(e) for e in d.evidence],
        events=[EventOut.of(e) for e in d.events],
    )


_STEP_ERRORS = errors(403, 404, 409, 422)


@router.post("/{hazard_id}/register", response_model=HazardOut, responses=_STEP_ERRORS)
def register_route(
    hazard_id: HazardId,
    request: Request,
    body: VersionIn | None = None,
    actor: Actor = Depends(require_roles(*_roles(Action.REGISTER))),
) -> HazardOut:
    ctx = _ctx(request)
    return _out(ctx, flow.register(ctx, hazard_id, actor, expected_version=body.version if body else None))


@router.post("/{hazard_id}/dispatch", response_model=HazardOut, responses=_STEP_ERRORS)
def dispatch_route(
    hazard_id: HazardId,
    body: DispatchIn,
    request: Request,
    actor: Actor = Depends(require_roles(*_roles(Action.DISPATCH))),
) -> HazardOut:
    ctx = _ctx(request)
    view = flow.dispatch(ctx, hazard_id, actor, body.assignee, expected_version=body.version)
    return HazardOut.of(view, ctx.clock.now(), body.assignee)


@router.post("/{hazard_id}/start", response_model=HazardOut, responses=_STEP_ERRORS)
def start_route(
    hazard_id: HazardId,
    request: Request,
    body: VersionIn | None = None,
    actor: Actor = Depends(require_roles(*_roles(Action.START))),
) -> HazardOut:
    ctx = _ctx(request)
    return _out(ctx, flow.start(ctx, hazard_id, actor, expected_version=body.version if body else None))


@router.post("/{hazard_id}/review", response_model=HazardOut, responses=_STEP_ERRORS)
def review_route(
    hazard_id: HazardId,
    body: ReviewIn,
    request: Request,
    actor: Actor = Depends(require_roles(*_roles(Action.APPROVE, Action.REJECT))),
) -> HazardOut:
    """Approve (→ reviewed) or reject with a reason (→ in_rectification); never by the rectifier."""
    ctx = _ctx(request)
    view = flow.review(ctx, hazard_id, actor, body.approve, body.reason, expected_version=body.version)
    return _out(ctx, view)


@router.post("/{hazard_id}/close", response_model=HazardOut, responses=_STEP_ERRORS)
def close_route(
    hazard_id: HazardId,
    body: CloseIn,
    request: Request,
    actor: Actor = Depends(require_roles(*_roles(Action.CLOSE))),
) -> HazardOut:
    """Close a reviewed hazard. A failed latest verification (not resolved, different scene, needs
    re-inspection) is refused (409) unless a reviewer — not the rectifier — gives ``override_reason``."""
    ctx = _ctx(request)
    return _out(ctx, flow.close(ctx, hazard_id, actor, body.override_reason, expected_version=body.version))


@router.post("/{hazard_id}/reopen", response_model=HazardOut, responses=_STEP_ERRORS)
def reopen_route(
    hazard_id: HazardId,
    body: ReopenIn,
    request: Request,
    actor: Actor = Depends(require_roles(*_roles(Action.REOPEN))),
) -> HazardOut:
    ctx = _ctx(request)
    return _out(ctx, flow.reopen(ctx, hazard_id, actor, body.reason, expected_version=body.version))


@router.post("/{hazard_id}/notes", response_model=NoteOut, status_code=201, responses=errors(404, 422))
def note_route(
    hazard_id: HazardId, body: NoteIn, request: Request, actor: Actor = Depends(current_actor)
) -> NoteOut:
    """Any signed-in user may add a note (optionally naming stored photos) to any hazard."""
    container = container_of(request)
    for key in body.object_keys:
        try:
            known = container.objects.exists(validate_key(key))
        except ObjectStoreError:
            known = False
        if not known:
            raise InvalidInput(f"object {key[:80]!r} is not stored; upload it first")
    return NoteOut(seq=flow.add_note(container.workflow, hazard_id, actor, body.object_keys, body.text))


@router.post(
    "/{hazard_id}/rectify", response_model=RectifyOut, responses=errors(403, 404, 409, 413, 415, 422, 503)
)
def rectify_route(
    hazard_id: HazardId,
    request: Request,
    file: Annotated[list[UploadFile], File(description="after photo(s); one or more `file` parts")],
    version: Annotated[int | None, Form()] = None,
    actor: Actor = Depends(require_roles(*_roles(Action.RECTIFY))),
) -> RectifyOut:
    """Store the after photo(s) and verify them against the hazard's first photo and box.

    Inline profile: verified in the request. Celery: queued; the verification evidence is appended when
    the worker is done (see the detail). No before photo or box → ``needs_reinspection``."""
    container = container_of(request)
    ctx = container.workflow
    subject = verification_subject(ctx, hazard_id)
    flow.require_version(hazard_id, subject.version, version)
    # Refuse early (role, state) before storing photos or spending CPU on matching.
    authorise(edge_for(subject.state, Action.RECTIFY), actor)
    if len(file) > MAX_AFTER_PHOTOS:
        raise InvalidInput(f"at most {MAX_AFTER_PHOTOS} after photos per rectification")
    keys: list[str] = []
    for upload in file:
        # The inspector's intake: bytes checked, metadata (GPS, camera maker) stripped by re-encoding, and
        # the stored type is the one the server determined, never the client's declared Content-Type.
        name = upload.filename or "after photo"
        try:
            intake = intake_upload(container, upload.file.read(), name, upload.content_type)
            key = store_object(container, intake.stored_bytes, intake.stored_media_type)
            seal_stored_photo(container, key, intake.stored_bytes, subject.zone)
        except ObjectStoreUnavailableError as exc:
            raise unavailable(exc) from exc
        except UnsupportedMediaTypeError as exc:
            raise unsupported(exc) from exc
        if key not in keys:
            keys.append(key)
    if container.settings.tasks.kind != "inline":
        view = flow.rectify(
            ctx, hazard_id, actor, keys, None, verification_queued=True, expected_version=version
        )
        task = VerifyTask(hazard_id=hazard_id, after_seq=view.evidence_count, after_keys=keys, by=actor.name)
        container.tasks.submit(TASK_NAME, task, key=f"hazard-verify-{hazard_id}-{view.evidence_count}")
        return RectifyOut(hazard=_out(ctx, view), verification=None, verification_queued=True)
    report = verify_rectification(container, subject, keys)
    comparison = (report.side_by_side_key,) if report.side_by_side_key else ()
    view = flow.rectify(
        ctx, hazard_id, actor, keys, report.outcome, verification_keys=comparison, expected_version=version
    )
    o = report.outcome
    verification = VerificationOut(
        verdict=o.verdict,
        match_score=o.match_score,
        inliers=o.inliers,
        hazard_score=o.hazard_score,
        side_by_side_key=report.side_by_side_key,
        reasons=list(report.reasons),
        regions_checked=o.regions_checked,
        regions_resolved=o.regions_resolved,
    )
    return RectifyOut(hazard=_out(ctx, view), verification=verification, verification_queued=False)
