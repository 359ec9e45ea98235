"""``/api/v1/objects/{key}``: the stored bytes of a photo, snapshot or annotated image.

Keys are sha256/UUID hex (never paths); objects are immutable, so responses are cacheable forever and
the key is a strong ETag.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response

from cameras.photos import PhotoFormat, sniff_format
from serving.api.auth import current_actor
from serving.api.errors import ApiError, error_body
from serving.bootstrap import Container
from serving.objects.keys import validate_key
from serving.objects.port import InvalidObjectKeyError, ObjectNotFoundError, ObjectStoreUnavailableError
from workflow.domain.roles import Actor

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/objects", tags=["objects"])

_CACHE = "private, max-age=31536000, immutable"


_OPAQUE = "application/octet-stream"
_BY_FORMAT = {PhotoFormat.JPEG: "image/jpeg", PhotoFormat.PNG: "image/png", PhotoFormat.HEIC: "image/heic"}


def served_type(data: bytes) -> str:
    """The type the server determines from the bytes; what a client declared when storing them never
    decides (an HTML file declared as an image, or a JPEG declared as text/html, is served inert)."""
    kind = sniff_format(data)
    return _BY_FORMAT.get(kind, _OPAQUE) if isinstance(kind, PhotoFormat) else _OPAQUE


def _fail(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=error_body(code, message)["detail"])


@router.get(
    "/{key:path}",
    response_class=Response,
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/heic": {}, "application/octet-stream": {}},
            "description": "The stored bytes, typed by their content (anything not an image: an attachment)",
        },
        304: {"description": "Not modified (If-None-Match matched the key)"},
        401: {"model": ApiError, "description": "Missing or unknown API key"},
        404: {"model": ApiError, "description": "No object under this key"},
        422: {"model": ApiError, "description": "Not a sha256/UUID hex key"},
        503: {"model": ApiError, "description": "The object store is unavailable"},
    },
)
def get_object(
    key: str,
    request: Request,
    if_none_match: str | None = Header(None, alias="If-None-Match"),
    _actor: Actor = Depends(current_actor),
) -> Response:
    """The object's bytes, typed by their content (any authenticated role)."""
    container: Container = request.app.state.container
    try:
        validate_key(key)
    except InvalidObjectKeyError as exc:
        raise _fail(422, "invalid_key", str(exc)) from exc
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": _CACHE}
    try:
        if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
            container.objects.stat(key)  # only answer "not modified" for objects that exist
            return Response(status_code=304, headers=headers)
        data = container.objects.get(key)
    except ObjectNotFoundError as exc:
        raise _fail(404, "not_found", f"no object {key}") from exc
    except ObjectStoreUnavailableError as exc:
        log.warning("object store unavailable: %s", exc)
        raise _fail(
            503, "object_store_unavailable", "the object store is unavailable; retry shortly"
        ) from exc
    media_type = served_type(data)
    if media_type == _OPAQUE:
        headers["Content-Disposition"] = "attachment"
    return Response(data, media_type=media_type, headers=headers)
