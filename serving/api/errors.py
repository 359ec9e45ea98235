"""One JSON error shape for every refusal: ``{"detail": {"error": CODE, "message": TEXT}}``.

Domain errors map to HTTP statuses here, so routes just call the workflow services and let them raise.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from cameras.photos import PhotoRejected
from serving.pipelines.decodes import DecodeBusyError
from vision.images import ImageError
from workflow.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    EvidenceRuleViolation,
    IllegalTransition,
    ImmutableRecord,
    InvalidInput,
    NotFound,
    Unauthorised,
)

log = logging.getLogger(__name__)

# Most specific first: ClockSkew is an InvalidInput, and so on.
_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (IllegalTransition, 409, "illegal_transition"),
    (ConcurrencyConflict, 409, "conflict"),
    (EvidenceRuleViolation, 409, "evidence_rule"),
    (ImmutableRecord, 409, "immutable"),
    (Unauthorised, 403, "forbidden"),
    (InvalidInput, 422, "invalid_input"),
    (PhotoRejected, 422, "photo_rejected"),
    (ImageError, 422, "bad_image"),
    (DomainError, 400, "refused"),
)


class ApiErrorDetail(BaseModel):
    error: str
    message: str


class ApiError(BaseModel):
    """The body of every 4xx/5xx answer."""

    detail: ApiErrorDetail


_ERROR_TEXT = {
    401: "Missing or unknown API key",
    403: "The actor's role may not do this",
    404: "No such resource",
    409: "Conflicting change (illegal transition, stale version, evidence rule)",
    413: "Upload larger than the configured limit",
    415: "The declared content type is not an image type",
    422: "Invalid input",
    503: "A dependency (database, object store, broker) is unavailable",
}


def error_doc(description: str) -> dict[str, Any]:
    """One OpenAPI error entry with a route-specific description."""
    return {"model": ApiError, "description": description}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer (401 always: every route needs a key)."""
    return {code: {"model": ApiError, "description": _ERROR_TEXT[code]} for code in (401, *codes)}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"detail": {"error": code, "message": message}}


def status_for(exc: Exception) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    raise TypeError(f"no HTTP mapping for {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        status, code = status_for(exc)
        return JSONResponse(error_body(code, str(exc)), status_code=status)

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's default body echoes the offending input back; a NaN there makes the error a 500.
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ())) or 'body'}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        )
        return JSONResponse(error_body("invalid_input", problems), status_code=422)

    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        # The database restarting or unreachable: a clear 503 (the pool reconnects once it is back, no
        # restart of the service needed). The driver's message can name hosts: logged, not returned.
        log.warning("database unavailable: %s", exc)
        message = "the database is unavailable; retry shortly"
        return JSONResponse(error_body("database_unavailable", message), status_code=503)

    for kind in (DomainError, PhotoRejected, ImageError):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)

    async def unstorable(_request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL refuses values SQLite takes (a NUL byte in text, a number out of a column's range):
        # the client's input, so a 422, with the driver's words kept in the log.
        log.info("database refused a value: %s", exc)
        message = "a value cannot be stored (text with a NUL character, or a number out of range)"
        return JSONResponse(error_body("invalid_input", message), status_code=422)

    async def decoders_busy(_request: Request, exc: Exception) -> JSONResponse:
        # Every photo decode slot is busy (large photos arriving at once): the client retries shortly.
        headers = {"Retry-After": "5"}
        return JSONResponse(error_body("busy", str(exc)), status_code=503, headers=headers)

    app.add_exception_handler(DecodeBusyError, decoders_busy)
    for outage in (OperationalError, InterfaceError):
        app.add_exception_handler(outage, database_down)
    app.add_exception_handler(DataError, unstorable)
    _document_validation_errors_as_api_errors(app)


def _document_validation_errors_as_api_errors(app: FastAPI) -> None:
    """FastAPI documents every 422 as its own HTTPValidationError; ours answer ApiError, so say so."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update({name: body for name, body in _api_error_schemas().items() if name not in schemas})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {"$ref": "#/components/schemas/ApiError"}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _api_error_schemas() -> dict[str, Any]:
    schema = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {"ApiError": schema, **defs}
