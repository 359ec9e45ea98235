"""N writers on one hazard at once, on SQLite and PostgreSQL: every write lands or meets a documented
refusal, never an integrity error (issue 12, 9); evidence numbers stay contiguous and the audit chain
verifies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.workflow.conftest import ObsFactory
from tests.support.race import race
from workflow.domain.errors import DomainError
from workflow.domain.roles import Actor
from workflow.services import hazards as hz
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.queries import hazard_detail

pytestmark = pytest.mark.integration
WRITERS = 8


def test_concurrent_notes_all_land_in_order(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory, clock: object
) -> None:
    result = hz.ingest_observation(ctx, make_obs(1, datetime(2026, 3, 2, 7, 0, tzinfo=UTC)))
    assert result.hazard_id is not None
    hazard_id = result.hazard_id
    work = [
        (lambda i=i: hz.add_note(ctx, hazard_id, actors["insp"], (), f"note {i}")) for i in range(WRITERS)
    ]
    outcomes = race(work)  # type: ignore[arg-type]
    assert outcomes == [None] * WRITERS, outcomes
    detail = hazard_detail(ctx, hazard_id)
    seqs = [e.seq for e in detail.evidence]
    assert seqs == list(range(1, WRITERS + 2))  # the observation, then 8 notes: no gap, no duplicate
    assert sorted(e.payload for e in detail.evidence[1:]) == sorted(
        f'{{"text":"note {i}"}}' for i in range(WRITERS)
    )
    assert verify_audit_chain(ctx).ok


def test_concurrent_transitions_one_wins_the_rest_are_refused_cleanly(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    result = hz.ingest_observation(ctx, make_obs(1, datetime(2026, 3, 2, 7, 0, tzinfo=UTC)))
    assert result.hazard_id is not None
    hazard_id = result.hazard_id
    outcomes = race([(lambda: hz.register(ctx, hazard_id, actors["insp"])) for _ in range(WRITERS)])
    wins = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if o is not None]
    assert len(wins) == 1
    assert all(isinstance(o, DomainError) for o in refused), refused  # illegal transition / conflict: 409
    assert verify_audit_chain(ctx).ok
