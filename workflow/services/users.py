"""Users and API keys: only the sha256 of a key is stored; the plaintext is returned once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Actor, Role
from workflow.persistence.orm import UserRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _attempt_create_user(ctx: WorkflowContext, name: str, role: Role | str) -> tuple[UserView, str]:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("user name must be 1–100 characters")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; known: {[r.value for r in Role]}") from None
    api_key = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise InvalidInput(f"user {name!r} already exists")
        row = UserRow(
            name=name, role=role.value, api_key_hash=hash_api_key(api_key), created_at=now, disabled=False
        )
        uow.session.add(row)
        uow.flush()
        uow.repo.append_audit(
            now, "system", "user.create", "user", str(row.id), canonical_payload({"role": role.value})
        )
        uow.commit()
        return UserView(row.id, row.name, role, row.created_at, row.disabled), api_key


create_user = retry_races(_attempt_create_user)


def authenticate(ctx: WorkflowContext, api_key: str) -> Actor | None:
    if not api_key:
        return None
    with ctx.uow() as uow:
        row = uow.session.scalar(select(UserRow).where(UserRow.api_key_hash == hash_api_key(api_key)))
        if row is None or row.disabled:
            return None
        return Actor(row.id, row.name, Role(row.role))
