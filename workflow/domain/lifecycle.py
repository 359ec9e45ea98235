"""Hazard lifecycle: the explicit transition table and who may walk each edge.

discovered → registered → dispatched → in_rectification → rectified → reviewed → closed;
review may reject (rectified → in_rectification); a closed hazard is reopened (closed → registered)
by a new occurrence or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow.domain.errors import IllegalTransition, InvalidInput, Unauthorised
from workflow.domain.roles import Actor, Role


class HazardState(StrEnum):
    DISCOVERED = "discovered"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    IN_RECTIFICATION = "in_rectification"
    RECTIFIED = "rectified"
    REVIEWED = "reviewed"
    CLOSED = "closed"


class Action(StrEnum):
    REGISTER = "register"
    DISPATCH = "dispatch"
    START = "start"
    RECTIFY = "rectify"
    APPROVE = "approve"
    REJECT = "reject"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Edge:
    source: HazardState
    target: HazardState
    action: Action
    roles: frozenset[Role]


_S = HazardState
_R = Role
TRANSITIONS: tuple[Edge, ...] = (
    Edge(
        _S.DISCOVERED, _S.REGISTERED, Action.REGISTER, frozenset({_R.INSPECTOR, _R.SAFETY_ENGINEER, _R.ADMIN})
    ),
    Edge(_S.REGISTERED, _S.DISPATCHED, Action.DISPATCH, frozenset({_R.SAFETY_ENGINEER, _R.ADMIN})),
    Edge(
        _S.DISPATCHED,
        _S.IN_RECTIFICATION,
        Action.START,
        frozenset({_R.RECTIFIER, _R.SAFETY_ENGINEER, _R.ADMIN}),
    ),
    Edge(
        _S.IN_RECTIFICATION,
        _S.RECTIFIED,
        Action.RECTIFY,
        frozenset({_R.RECTIFIER, _R.SAFETY_ENGINEER, _R.ADMIN}),
    ),
    Edge(_S.RECTIFIED, _S.REVIEWED, Action.APPROVE, frozenset({_R.REVIEWER, _R.ADMIN})),
    Edge(_S.RECTIFIED, _S.IN_RECTIFICATION, Action.REJECT, frozenset({_R.REVIEWER, _R.ADMIN})),
    Edge(_S.REVIEWED, _S.CLOSED, Action.CLOSE, frozenset({_R.REVIEWER, _R.SAFETY_ENGINEER, _R.ADMIN})),
    Edge(_S.CLOSED, _S.REGISTERED, Action.REOPEN, frozenset({_R.INSPECTOR, _R.SAFETY_ENGINEER, _R.ADMIN})),
)
_BY_PAIR: dict[tuple[HazardState, HazardState], Edge] = {(e.source, e.target): e for e in TRANSITIONS}
_BY_ACTION: dict[tuple[HazardState, Action], Edge] = {(e.source, e.action): e for e in TRANSITIONS}

OPEN_STATES = frozenset(s for s in HazardState if s is not HazardState.CLOSED)
# States in which the hazard still has to be fixed: the fix deadline applies.
UNFIXED_STATES = frozenset({_S.DISCOVERED, _S.REGISTERED, _S.DISPATCHED, _S.IN_RECTIFICATION})
# States in which nobody has responded yet: the response deadline applies.
UNANSWERED_STATES = frozenset({_S.DISCOVERED, _S.REGISTERED, _S.DISPATCHED})


def parse_state(value: str) -> HazardState:
    try:
        return HazardState(value)
    except ValueError:
        raise InvalidInput(
            f"unknown hazard state {value!r}; known: {[s.value for s in HazardState]}"
        ) from None


def edge_between(source: HazardState, target: HazardState) -> Edge:
    """The edge source → target, or IllegalTransition."""
    edge = _BY_PAIR.get((source, target))
    if edge is None:
        raise IllegalTransition(f"no transition from {source.value} to {target.value}")
    return edge


def edge_for(source: HazardState, action: Action) -> Edge:
    edge = _BY_ACTION.get((source, action))
    if edge is None:
        raise IllegalTransition(f"cannot {action.value} a hazard in state {source.value}")
    return edge


def authorise(edge: Edge, actor: Actor) -> None:
    if actor.role not in edge.roles:
        allowed = sorted(r.value for r in edge.roles)
        raise Unauthorised(f"role {actor.role.value} may not {edge.action.value}; allowed: {allowed}")
