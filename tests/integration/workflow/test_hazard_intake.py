"""Observation intake end to end on SQLite and PostgreSQL, every expected value written out by hand: the
discover event, audit entry and evidence row of a new hazard, one evidence item for the findings of one
photo, the confidence boundary, a reopen's reason, the zone's area, default risk, and the repeat rule's
counts across stored hazards and inside one batch, at the window's edge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.workflow.conftest import ObsFactory
from tests.support.audit_log import audit_after, last_audit_seq
from tests.support.hazard_rows import (
    events_of,
    evidence_observations,
    evidence_of,
    indexed_keys,
    stored_hazard,
)
from workflow.domain.clock import FakeClock
from workflow.domain.config import WorkflowConfig
from workflow.domain.errors import ClockSkew
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.observations import IngestStatus, Observation
from workflow.domain.repeats import RepeatPolicy
from workflow.domain.roles import Actor
from workflow.services import hazards as hz
from workflow.services.context import WorkflowContext
from workflow.services.zones import Zone, upsert_zone

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the clock fixture's start
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _with(ctx: WorkflowContext, config: WorkflowConfig) -> WorkflowContext:
    return WorkflowContext(ctx.session_factory, ctx.clock, config)


def _walk_to_closed(ctx: WorkflowContext, hid: int, u: dict[str, Actor]) -> None:
    hz.register(ctx, hid, u["insp"])
    hz.dispatch(ctx, hid, u["eng"])
    hz.start(ctx, hid, u["fixer"])
    hz.rectify(ctx, hid, u["fixer"], ["after.jpg"], VerificationOutcome(Verdict.RESOLVED, 0.9, 40, 0.0))
    hz.review(ctx, hid, u["rev"], approve=True)
    hz.close(ctx, hid, u["rev"])


def test_a_new_hazard_gets_its_discover_event_audit_entry_and_evidence(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    head = last_audit_seq(ctx)
    first = make_obs(
        1, T0, box=(10.0, 20.0, 30.5, 40.0), description="no helmet at gate 2", reported_by="insp"
    )
    created = hz.ingest_observation(ctx, first)
    assert created.status is IngestStatus.CREATED and created.hazard_id is not None
    hid = created.hazard_id
    assert events_of(ctx, hid) == [
        ("discover", None, "discovered", None, "insp", "safety_engineer", T0, None)
    ]
    hazard = stored_hazard(ctx, hid)
    assert (hazard.likelihood, hazard.severity, hazard.level) == (3, 4, "orange")  # the "ppe" default
    assert evidence_of(ctx, hid) == [
        (1, "snapshot", '["snap/1.jpg"]',
         '{"box":"10,20,30.5,40","confidence":0.9,"description":"no helmet at gate 2","reported_by":"insp"}',
         "insp", T0),
    ]  # fmt: skip
    clock.advance(M)
    appended = hz.ingest_observation(ctx, make_obs(2, T0 + M))  # no reporter: the system, by its source
    assert (appended.status, appended.hazard_id) == (IngestStatus.APPENDED, hid)
    assert evidence_of(ctx, hid)[1] == (
        2, "snapshot", '["snap/2.jpg"]',
        '{"box":null,"confidence":0.9,"description":null,"reported_by":null}', "cam1", T0 + M,
    )  # fmt: skip
    assert evidence_observations(ctx, hid) == ["obs-1", "obs-2"]
    assert audit_after(ctx, head) == [
        (T0, "insp", "observation.created", "hazard", str(hid),
         '{"kind":"ppe.no_helmet","observation_id":"obs-1"}'),
        (T0 + M, "system", "observation.appended", "hazard", str(hid),
         '{"kind":"ppe.no_helmet","observation_id":"obs-2"}'),
    ]  # fmt: skip
    assert len(events_of(ctx, hid)) == 1  # appending is not a step


def test_two_findings_of_one_photo_are_one_evidence_item_with_both_boxes(
    ctx: WorkflowContext, make_obs: ObsFactory
) -> None:
    photo = ("photos/p1.jpg", "annotated/p1.jpg")
    batch = [
        make_obs(1, T0, evidence_keys=photo, box=(1.0, 2.0, 3.0, 4.0), confidence=0.6),
        make_obs(2, T0, evidence_keys=photo, box=(5.0, 6.0, 7.0, 8.0), confidence=0.8),
        make_obs(3, T0, evidence_keys=("photos/p2.jpg",), box=(9.0, 9.0, 10.0, 10.0)),
    ]
    results = hz.ingest_observations(ctx, batch)
    hid = results[0].hazard_id
    assert hid is not None and [r.hazard_id for r in results] == [hid, hid, hid]
    assert evidence_of(ctx, hid) == [
        (1, "snapshot", '["photos/p1.jpg", "annotated/p1.jpg"]',
         '{"box":"1,2,3,4","boxes":"1,2,3,4;5,6,7,8","confidence":0.8,"description":null,"detections":2,'
         '"reported_by":null}', "cam1", T0),
        (2, "snapshot", '["photos/p2.jpg"]',
         '{"box":"9,9,10,10","confidence":0.9,"description":null,"reported_by":null}', "cam1", T0),
    ]  # fmt: skip
    assert stored_hazard(ctx, hid).evidence_count == 2
    # Every key of both items is indexed once (retention keeps the frames evidence refers to).
    assert indexed_keys(ctx) == [(hid, "annotated/p1.jpg"), (hid, "photos/p1.jpg"), (hid, "photos/p2.jpg")]


def test_a_finding_at_the_minimum_confidence_opens_a_hazard_and_one_below_is_only_recorded(
    ctx: WorkflowContext, make_obs: ObsFactory
) -> None:
    strict = _with(ctx, WorkflowConfig(min_confidence=0.5))
    at_min, below = hz.ingest_observations(
        strict, [make_obs(1, T0, confidence=0.5), make_obs(2, T0, confidence=0.49, kind="ppe.no_vest")]
    )
    assert at_min.status is IngestStatus.CREATED and at_min.hazard_id is not None
    assert (below.status, below.hazard_id) == (IngestStatus.RECORDED, None)


def test_a_future_observation_is_refused_naming_the_field(ctx: WorkflowContext, make_obs: ObsFactory) -> None:
    message = (
        "observed_at 2026-03-02T08:02:00.000001+00:00 is ahead of the server clock 2026-03-02T08:00:00+00:00"
        " by more than 0:02:00"
    )
    with pytest.raises(ClockSkew, match=f"^{re.escape(message)}$"):
        hz.ingest_observation(ctx, make_obs(1, T0 + 2 * M + timedelta(microseconds=1)))
    assert hz.ingest_observation(ctx, make_obs(2, T0 + 2 * M)).status is IngestStatus.CREATED  # at the skew


def test_a_hazard_takes_its_zones_area_and_otherwise_the_observations(
    ctx: WorkflowContext, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    upsert_zone(ctx, Zone("z1", "Gate", "north-yard"), actors["boss"])
    in_zone, unknown, named = hz.ingest_observations(
        ctx,
        [
            make_obs(1, T0),
            make_obs(2, T0, zone="z9", source_id="cam2"),
            make_obs(3, T0, zone="z8", source_id="cam3", area="tank farm"),
        ],
    )
    areas = [stored_hazard(ctx, r.hazard_id).area for r in (in_zone, unknown, named) if r.hazard_id]
    assert areas == ["north-yard", "z9", "tank farm"]


def test_a_new_occurrence_at_closed_equipment_reopens_it_naming_the_observation(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    u = actors
    first = hz.ingest_observation(ctx, make_obs(1, T0, equipment_id="P-7"))
    hid = first.hazard_id
    assert hid is not None
    _walk_to_closed(ctx, hid, u)
    clock.advance(H)
    again = hz.ingest_observation(ctx, make_obs(9, T0 + H, equipment_id="P-7", source_id="cam2"))
    assert (again.status, again.hazard_id) == (IngestStatus.REOPENED, hid)
    assert events_of(ctx, hid)[-1] == (
        "reopen", "closed", "registered", None, "system", "safety_engineer", T0 + H, "new occurrence obs-9"
    )  # fmt: skip
    assert stored_hazard(ctx, hid).reopen_count == 1


def test_a_repeat_is_discovered_with_the_escalation_named(ctx: WorkflowContext, make_obs: ObsFactory) -> None:
    twice = _with(ctx, WorkflowConfig(repeats=RepeatPolicy(unresolved_threshold=2)))
    # The same camera 9 h apart (past the 8 h de-duplication window): two hazards, the second a repeat.
    first, second = hz.ingest_observations(twice, [make_obs(1, T0 - 9 * H), make_obs(2, T0)])
    assert (first.repeat_flagged, second.repeat_flagged) == (False, True)
    assert first.hazard_id is not None and second.hazard_id is not None
    assert events_of(ctx, first.hazard_id)[0][7] is None
    assert events_of(ctx, second.hazard_id)[0][7] == "repeat hazard: escalated"
    assert stored_hazard(ctx, second.hazard_id).escalation_level == 1


# Repeats by the window count alone: 3 hazards of one kind in one area within 20 h.
_WINDOW = WorkflowConfig(repeats=RepeatPolicy(unresolved_threshold=99, window_threshold=3, window=20 * H))


def _window_batch(first_at: datetime, make_obs: ObsFactory) -> list[Observation]:
    """Four sightings 10-12 h apart (each a new hazard) and one of another kind, which counts for nothing."""
    return [
        make_obs(1, first_at),
        make_obs(2, T0 + 11 * H),
        make_obs(9, T0 + 12 * H, kind="ppe.no_vest"),
        make_obs(3, T0 + 20 * H),
        make_obs(4, T0 + 32 * H),
    ]


def test_the_repeat_window_counts_the_hazards_stored_before(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    clock.set(T0 + 32 * H)
    windowed = _with(ctx, _WINDOW)
    flags = [hz.ingest_observation(windowed, obs).repeat_flagged for obs in _window_batch(T0 + H, make_obs)]
    # The third in 20 h (T0+1h, +11h, +20h) is a repeat; at +32h the window (from +12h) holds +20h alone.
    assert flags == [False, False, False, True, False]


def test_the_repeat_window_counts_the_batchs_own_hazards_from_its_first_instant(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    clock.set(T0 + 32 * H)
    results = hz.ingest_observations(_with(ctx, _WINDOW), _window_batch(T0, make_obs))
    assert [r.status for r in results] == [IngestStatus.CREATED] * 5
    # The window of the one at +20h starts at T0 exactly, and the one at T0 counts.
    assert [r.repeat_flagged for r in results] == [False, False, False, True, False]


def test_repeats_count_per_equipment_and_per_area(
    ctx: WorkflowContext, clock: FakeClock, make_obs: ObsFactory
) -> None:
    clock.set(T0 + 20 * H)
    at_pumps = hz.ingest_observations(
        _with(ctx, _WINDOW),
        [
            make_obs(1, T0, equipment_id="P-1"),
            make_obs(2, T0 + 10 * H, equipment_id="P-2"),  # the same area, another pump
            make_obs(3, T0 + 20 * H, equipment_id="P-1"),
        ],
    )
    assert [r.repeat_flagged for r in at_pumps] == [False, False, False]  # P-1 twice in 20 h: no repeat
    in_areas = hz.ingest_observations(
        _with(ctx, _WINDOW),
        [
            make_obs(4, T0, zone="z2", source_id="cam2"),
            make_obs(5, T0 + 10 * H, zone="z3", source_id="cam2"),  # another area
            make_obs(6, T0 + 20 * H, zone="z2", source_id="cam2"),
        ],
    )
    assert [r.repeat_flagged for r in in_areas] == [False, False, False]  # z2 twice in 20 h: no repeat


def _closed_at_p7(ctx: WorkflowContext, clock: FakeClock, u: dict[str, Actor], make_obs: ObsFactory) -> int:
    hid = hz.ingest_observation(ctx, make_obs(1, T0, equipment_id="P-7")).hazard_id
    assert hid is not None
    clock.set(T0 + H)
    _walk_to_closed(ctx, hid, u)  # its last step at T0 + 1 h
    return hid


def test_a_refused_observation_of_a_batch_is_named_and_nothing_is_stored(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    _closed_at_p7(ctx, clock, actors, make_obs)
    clock.set(T0 + 30 * M)  # the server clock went back: reopening now would precede the close
    step = "step at 2026-03-02T08:30:00+00:00 precedes the hazard's last step 2026-03-02T09:00:00+00:00"
    reopening = make_obs(9, T0 + 30 * M, equipment_id="P-7", source_id="cam2")
    with pytest.raises(ClockSkew, match=f"^{re.escape(step)}$"):
        hz.ingest_observation(ctx, reopening)  # alone: the step's own message
    batch = [make_obs(8, T0 + 30 * M, zone="z2", source_id="cam3"), reopening]
    message = f"observation 'obs-9' (item 2 of 2): {step}; nothing from this batch was stored"
    head = last_audit_seq(ctx)
    with pytest.raises(ClockSkew, match=f"^{re.escape(message)}$"):
        hz.ingest_observations(ctx, batch)
    assert audit_after(ctx, head) == []
    assert hz.ingest_observation(ctx, batch[0]).status is IngestStatus.CREATED  # obs-8 was not stored


@pytest.mark.parametrize(("reopened_at", "later_goes_to"), [(T0 + 2 * H, "open"), (T0 + 3 * H, "reopened")])
def test_after_a_reopen_the_batch_appends_to_the_more_recently_seen_hazard_of_its_key(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory,
    reopened_at: datetime, later_goes_to: str,
) -> None:  # fmt: skip
    # cam1 saw a helmetless worker at pump P-7 (closed since), and later one elsewhere, still open, last
    # seen at T0+3h. In one batch cam2 sees one at P-7 again (reopening the closed one), then cam1 once more.
    clock.set(T0 - 30 * H)
    closed = hz.ingest_observation(ctx, make_obs(1, T0 - 30 * H, equipment_id="P-7")).hazard_id
    assert closed is not None
    _walk_to_closed(ctx, closed, actors)
    clock.set(T0 + 3 * H)
    still_open = hz.ingest_observation(ctx, make_obs(2, T0 + 3 * H)).hazard_id
    clock.set(T0 + 4 * H)
    reopen, later = hz.ingest_observations(
        ctx, [make_obs(3, reopened_at, equipment_id="P-7", source_id="cam2"), make_obs(4, T0 + 4 * H)]
    )
    assert (reopen.status, reopen.hazard_id) == (IngestStatus.REOPENED, closed)
    # Seen before the open one's last sighting, the reopened hazard leaves cam1's key to it; seen at that
    # very time or later, it takes the key.
    expected = {"open": still_open, "reopened": closed}[later_goes_to]
    assert (later.status, later.hazard_id) == (IngestStatus.APPENDED, expected)


def test_each_reopen_in_a_batch_counts_as_unresolved_for_the_repeat_rule(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor], make_obs: ObsFactory
) -> None:
    # Two closed hazards at pump P-7 (made while nothing reopened, so the second did not reopen the first).
    no_reopen = _with(ctx, WorkflowConfig(reopen_window=timedelta(0)))
    closed = []
    for n in (1, 2):
        hid = hz.ingest_observation(
            no_reopen, make_obs(n, T0, equipment_id="P-7", source_id=f"cam{n}")
        ).hazard_id
        assert hid is not None
        _walk_to_closed(ctx, hid, actors)
        closed.append(hid)
        clock.advance(M)  # closed before now: outside a reopen window of 0
    # One batch reopens both and sees a third place at P-7: 2 unresolved + itself = 3, the threshold.
    three = _with(ctx, WorkflowConfig(repeats=RepeatPolicy(unresolved_threshold=3, window_threshold=99)))
    results = hz.ingest_observations(
        three, [make_obs(10 + n, T0, equipment_id="P-7", source_id=f"cam{10 + n}") for n in (1, 2, 3)]
    )
    assert [r.status for r in results] == [IngestStatus.REOPENED, IngestStatus.REOPENED, IngestStatus.CREATED]
    assert sorted(r.hazard_id for r in results[:2] if r.hazard_id) == sorted(closed)
    assert results[2].repeat_flagged
