"""``/api/v1/objects/{key}``: the stored bytes of a photo, snapshot or annotated image.

Keys are sha256/UUID hex (never paths); objects are immutable, so responses are cacheable forever and
the key is a strong ETag. A sealed original (faces, ``HAZARDEYE_PRIVACY__*``) is the exception: roles in
``original_viewers`` get it (each view audited), everyone else its face-blurred copy, never cached.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response

from cameras.photos import PhotoFormat, sniff_format
from serving.api.auth import current_actor
from serving.api.errors import ApiError, error_body
from serving.api.sealed import SealedPendingError, Shown, shown_for
from serving.bootstrap import Container
from serving.objects.keys import validate_key
from serving.objects.port import InvalidObjectKeyError, ObjectNotFoundError, ObjectStoreUnavailableError
from workflow.domain.roles import Actor

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/objects", tags=["objects"])

_CACHE = "private, max-age=31536000, immutable"
_SEALED_CACHE = "private, no-store"  # the bytes depend on who asks


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
        403: {"model": ApiError, "description": "A sealed original whose blurred copy is not made yet"},
        404: {"model": ApiError, "description": "No object under this key"},
        422: {"model": ApiError, "description": "Not a sha256/UUID hex key"},
        503: {"model": ApiError, "description": "The object store is unavailable"},
    },
)
def get_object(
    key: str,
    request: Request,
    if_none_match: str | None = Header(None, alias="If-None-Match"),
    actor: Actor = Depends(current_actor),
) -> Response:
    """The object's bytes, typed by their content (any authenticated role; a sealed original only to
    the roles allowed to see it, its face-blurred copy to the others)."""
    container: Container = request.app.state.container
    try:
        validate_key(key)
    except InvalidObjectKeyError as exc:
        raise _fail(422, "invalid_key", str(exc)) from exc
    try:
        shown = shown_for(container, key, actor)
    except SealedPendingError as exc:
        raise _fail(403, "sealed", "this image may show faces and is not blurred yet; retry shortly") from exc
    if shown.faces is not None:
        return _sealed(container, shown, key)
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": _CACHE}
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        _stored(container, key)  # only answer "not modified" for objects that exist
        return Response(status_code=304, headers=headers)
    return _typed(_read(container, key, key), headers)


def _typed(data: bytes, headers: dict[str, str]) -> Response:
    media_type = served_type(data)
    if media_type == _OPAQUE:
        headers["Content-Disposition"] = "attachment"
    return Response(data, media_type=media_type, headers=headers)


def _sealed(container: Container, shown: Shown, asked: str) -> Response:
    """A sealed original or its blurred copy: the bytes depend on who asks, so nothing is cached."""
    data = _read(container, shown.key, asked)
    return _typed(data, {"Cache-Control": _SEALED_CACHE, "X-Hazardeye-Faces": shown.faces or ""})


def _stored(container: Container, key: str) -> None:
    _read(container, key, key, stat_only=True)


def _read(container: Container, key: str, asked: str, stat_only: bool = False) -> bytes:
    """The bytes under ``key`` (``asked``: the key the client named), store errors as HTTP answers."""
    try:
        if stat_only:
            container.objects.stat(key)
            return b""
        return container.objects.get(key)
    except ObjectNotFoundError as exc:
        raise _fail(404, "not_found", f"no object {asked}") from exc
    except ObjectStoreUnavailableError as exc:
        log.warning("object store unavailable: %s", exc)
        raise _fail(
            503, "object_store_unavailable", "the object store is unavailable; retry shortly"
        ) from exc
