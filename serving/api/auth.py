"""API-key authentication (``Authorization: Bearer KEY``) and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from serving.bootstrap import Container
from workflow.domain.roles import Actor, Role
from workflow.services.users import authenticate

_bearer = HTTPBearer(auto_error=False, description="API key from `hazardeye users create`")


def _unauthenticated(message: str) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail={"error": "unauthenticated", "message": message},
        headers={"WWW-Authenticate": "Bearer"},  # pragma: no mutate (header names are case-insensitive)
    )


def current_actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Actor:
    if credentials is None:
        raise _unauthenticated("missing API key: send 'Authorization: Bearer KEY'")
    container: Container = request.app.state.container
    actor = authenticate(container.workflow, credentials.credentials)
    if actor is None:
        raise _unauthenticated("unknown or disabled API key")
    return actor


def require_roles(*roles: Role) -> Callable[..., Actor]:
    """Dependency for mutating endpoints: the actor must hold one of ``roles`` (admins always may)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(
                status_code=403,
                detail={
                    "error": "forbidden",
                    "message": f"role {actor.role.value!r} may not do this; needs one of "
                    f"{sorted(r.value for r in allowed)}",
                },
            )
        return actor

    return check


class Me(BaseModel):
    name: str
    role: Role


router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.get("/me", response_model=Me, responses={401: {"description": "Missing or unknown API key"}})
def me(actor: Actor = Depends(current_actor)) -> Me:
    """Who the API key belongs to (clients use it to check a key and show the role)."""
    return Me(name=actor.name, role=actor.role)
