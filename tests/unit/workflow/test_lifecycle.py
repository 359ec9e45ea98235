"""The transition table: every (state, target) pair is either an edge or an IllegalTransition."""

from __future__ import annotations

import itertools

import pytest

from tests.support.role_matrix import EDGES, may
from workflow.domain.errors import IllegalTransition, InvalidInput, Unauthorised
from workflow.domain.lifecycle import (
    TRANSITIONS,
    Action,
    HazardState,
    authorise,
    edge_between,
    edge_for,
    parse_state,
)
from workflow.domain.roles import Actor, Role

S = HazardState
LEGAL = {
    (S.DISCOVERED, S.REGISTERED),
    (S.REGISTERED, S.DISPATCHED),
    (S.DISPATCHED, S.IN_RECTIFICATION),
    (S.IN_RECTIFICATION, S.RECTIFIED),
    (S.RECTIFIED, S.REVIEWED),
    (S.RECTIFIED, S.IN_RECTIFICATION),
    (S.REVIEWED, S.CLOSED),
    (S.CLOSED, S.REGISTERED),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(HazardState, HazardState)))
def test_every_state_pair(source: HazardState, target: HazardState) -> None:
    if (source, target) in LEGAL:
        edge = edge_between(source, target)
        assert (edge.source, edge.target) == (source, target)
        assert edge_for(source, edge.action) is edge
    else:
        with pytest.raises(IllegalTransition, match=f"from {source.value} to {target.value}"):
            edge_between(source, target)


def test_table_has_exactly_the_documented_edges() -> None:
    assert {(e.source, e.target) for e in TRANSITIONS} == LEGAL


@pytest.mark.parametrize(("source", "action"), list(EDGES), ids=lambda v: str(v))
@pytest.mark.parametrize("role", list(Role))
def test_roles_per_edge(source: HazardState, action: Action, role: Role) -> None:
    edge = edge_for(source, action)
    assert edge.target is EDGES[(source, action)][0]
    actor = Actor(1, "someone", role)
    if may(source, action, role):
        authorise(edge, actor)
    else:
        with pytest.raises(Unauthorised, match=f"role {role.value} may not {action.value}"):
            authorise(edge, actor)


def test_the_role_matrix_covers_every_edge() -> None:
    assert {(e.source, e.action) for e in TRANSITIONS} == set(EDGES)


def test_review_is_reviewer_or_admin_only_and_dispatch_engineer_or_admin() -> None:
    assert edge_for(S.RECTIFIED, Action.APPROVE).roles == {Role.REVIEWER, Role.ADMIN}
    assert edge_for(S.REGISTERED, Action.DISPATCH).roles == {Role.SAFETY_ENGINEER, Role.ADMIN}


def test_review_cannot_precede_rectification() -> None:
    for state in (S.DISCOVERED, S.REGISTERED, S.DISPATCHED, S.IN_RECTIFICATION):
        with pytest.raises(IllegalTransition):
            edge_for(state, Action.APPROVE)


def test_unknown_state_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="unknown hazard state 'fixed'"):
        parse_state("fixed")
    assert parse_state("closed") is S.CLOSED


def test_refusals_name_the_step_and_who_may_take_it() -> None:
    with pytest.raises(IllegalTransition, match=r"^cannot approve a hazard in state registered$"):
        edge_for(S.REGISTERED, Action.APPROVE)
    with pytest.raises(
        Unauthorised,
        match=r"^role inspector may not close; allowed: \['admin', 'reviewer', 'safety_engineer'\]$",
    ):
        authorise(edge_for(S.REVIEWED, Action.CLOSE), Actor(1, "ann", Role.INSPECTOR))
