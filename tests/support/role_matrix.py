"""The hazard lifecycle as the domain rules state it, written out by hand for tests to check the code
against (never read from ``workflow.domain.lifecycle``): for each (state, action), the state it leads to
and who may take it. I inspector, R rectifier, V reviewer, E safety engineer, A admin."""

from __future__ import annotations

from workflow.domain.lifecycle import Action, HazardState
from workflow.domain.roles import Role

S = HazardState
ROLE_LETTERS = {
    "I": Role.INSPECTOR,
    "R": Role.RECTIFIER,
    "V": Role.REVIEWER,
    "E": Role.SAFETY_ENGINEER,
    "A": Role.ADMIN,
}
EDGES: dict[tuple[HazardState, Action], tuple[HazardState, str]] = {
    (S.DISCOVERED, Action.REGISTER): (S.REGISTERED, "IEA"),
    (S.REGISTERED, Action.DISPATCH): (S.DISPATCHED, "EA"),
    (S.DISPATCHED, Action.START): (S.IN_RECTIFICATION, "REA"),
    (S.IN_RECTIFICATION, Action.RECTIFY): (S.RECTIFIED, "REA"),
    (S.RECTIFIED, Action.APPROVE): (S.REVIEWED, "VA"),
    (S.RECTIFIED, Action.REJECT): (S.IN_RECTIFICATION, "VA"),
    (S.REVIEWED, Action.CLOSE): (S.CLOSED, "VEA"),
    (S.CLOSED, Action.REOPEN): (S.REGISTERED, "IEA"),
}
# Overriding a failed verification at closing is a reviewer's (or admin's) call alone.
OVERRIDERS = frozenset({Role.REVIEWER, Role.ADMIN})


def may(source: HazardState, action: Action, role: Role) -> bool:
    edge = EDGES.get((source, action))
    return edge is not None and role in {ROLE_LETTERS[letter] for letter in edge[1]}
