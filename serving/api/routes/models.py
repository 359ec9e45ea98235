"""``/api/v1/models``: the installed detectors with their cards, and a hot reload of the models folder."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from serving.api.auth import current_actor, require_roles
from serving.api.errors import error_responses as errors
from serving.bootstrap import Container
from vision.model_card import EvaluationMetrics
from vision.registry import ModelEntry, ModelRegistry, Precision
from workflow.domain.roles import Actor, Role


class ModelOut(BaseModel):
    name: str
    version: int
    current: bool
    ref: str
    classes: list[str]
    input_size: tuple[int, int]
    precision: Precision = Field(description="the precision this service serves for this version")
    precision_reason: str = Field(description="why: the VISION__PRECISION setting and the CPU's INT8 support")
    precisions: list[Precision] = Field(description="the precisions installed for this version")
    metrics: EvaluationMetrics | None = Field(description="held-out metrics of the served file")
    licence: str
    trained_on: str
    description: str

    @classmethod
    def of(cls, e: ModelEntry) -> ModelOut:
        card = e.served_card
        return cls(
            name=e.name,
            version=e.version,
            current=e.current,
            ref=e.ref,
            classes=list(card.classes),
            input_size=card.input_size,
            precision=e.precision,
            precision_reason=e.precision_reason,
            precisions=list(e.precisions),
            metrics=card.metrics,
            licence=card.licence,
            trained_on=card.training.dataset,
            description=card.description,
        )


class ProblemOut(BaseModel):
    path: str
    message: str


class ReloadOut(BaseModel):
    models: list[ModelOut]
    problems: list[ProblemOut]


router = APIRouter(prefix="/api/v1/models", tags=["models"])


def _registry(request: Request) -> ModelRegistry:
    container: Container = request.app.state.container
    return container.models


@router.get("", response_model=list[ModelOut], responses=errors())
def list_models(request: Request, _actor: Actor = Depends(current_actor)) -> list[ModelOut]:
    """Every installed model version; ``current`` marks the one the service runs."""
    return [ModelOut.of(e) for e in _registry(request).entries()]


@router.post("/reload", response_model=ReloadOut, responses=errors(403))
def reload_models(
    request: Request, _actor: Actor = Depends(require_roles(Role.SAFETY_ENGINEER))
) -> ReloadOut:
    """Re-scan the models folder (after ``hazardeye promote``) without restarting the service."""
    registry = _registry(request)
    registry.reload()
    return ReloadOut(
        models=[ModelOut.of(e) for e in registry.entries()],
        problems=[ProblemOut(path=str(p.path), message=p.message) for p in registry.problems],
    )
