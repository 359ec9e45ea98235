"""Which bytes a person is shown for an object key that may be a sealed original (face blurring).

Shared by ``/objects/{key}`` and the camera snapshot route, so no path shows a sealed original to a role
that may not see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from serving.bootstrap import Container
from workflow.domain.roles import Actor
from workflow.services.seals import record_sealed_view, seal_of


class SealedPendingError(Exception):
    """A sealed original whose blurred copy is not made yet: nothing may be shown to this role."""


@dataclass(frozen=True, slots=True)
class Shown:
    key: str  # the object to serve
    faces: Literal["original", "blurred"] | None  # None: not a sealed image


def shown_for(container: Container, key: str, actor: Actor) -> Shown:
    """The original to roles in ``privacy.original_viewers`` (the view audited), the blurred copy to the
    others; an unsealed key is served as it is."""
    seal = seal_of(container.workflow, key)
    if seal is None:
        return Shown(key, None)
    if actor.role.value in container.settings.privacy.original_viewers:
        record_sealed_view(container.workflow, key, actor)
        return Shown(key, "original")
    if seal.display_key is None:
        raise SealedPendingError(f"{key}: may show faces and is not blurred yet")
    return Shown(seal.display_key, "blurred")
