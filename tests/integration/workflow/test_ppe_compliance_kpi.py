"""PPE compliance is pooled over people, and camera frames count (issue 13, 7), on SQLite and PostgreSQL.

Hand-worked figures: area north has a photo with 2 compliant people and 1 bare head (the photo path's
observations) plus camera frames with 3 + 4 compliant and 1 + 1 bare heads (the tallies): 9 of 12. Area
south: one photo, 1 compliant, 1 bare: 1 of 2. Pooled over both: 10 of 14 = 71.4 %, where the mean of the
two areas' rates (75 % and 50 %) would say 62.5 %.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.domain.clock import FakeClock
from workflow.domain.observations import PPE_OK_KIND, Observation, SourceKind
from workflow.domain.roles import Actor
from workflow.services import hazards as hz
from workflow.services.camera_inspections import CameraInspection, ZonePpe, record_inspection
from workflow.services.context import WorkflowContext
from workflow.services.kpis import compute_kpis
from workflow.services.zones import Zone, upsert_zone

pytestmark = pytest.mark.integration


def _photo_obs(photo: str, n: int, kind: str, zone: str, clock: FakeClock) -> Observation:
    return Observation(
        observation_id=f"photo:{photo}:{n}", kind=kind, confidence=0.9, zone=zone,
        source_kind=SourceKind.PHOTO, source_id=photo, observed_at=clock.now() - timedelta(minutes=5),
        equipment_id=f"eq-{photo}",
    )  # fmt: skip


def test_compliance_pools_people_from_photos_and_camera_frames(
    ctx: WorkflowContext, clock: FakeClock, actors: dict[str, Actor]
) -> None:
    upsert_zone(ctx, Zone("gate-3", "Gate 3", "north", frozenset()), actors["boss"])
    upsert_zone(ctx, Zone("dock-1", "Dock 1", "south", frozenset()), actors["boss"])
    kinds = [PPE_OK_KIND, PPE_OK_KIND, "ppe.no_helmet"]
    hz.ingest_observations(ctx, [_photo_obs("p1", i, k, "gate-3", clock) for i, k in enumerate(kinds)])
    hz.ingest_observations(ctx, [_photo_obs("p2", i, k, "dock-1", clock) for i, k in enumerate(kinds[1:])])
    at = clock.now()
    first = CameraInspection("cam-1", at, None, 4, (), (ZonePpe("gate-3", 3, 1),))
    record_inspection(ctx, first)
    record_inspection(ctx, first)  # a redelivered task: its frame is counted once
    # A frame finishing after a newer one of its camera is not counted: it cannot be told from a
    # redelivery of an old task (a small undercount when workers finish out of order).
    record_inspection(
        ctx, CameraInspection("cam-1", at - timedelta(seconds=5), None, 9, (), (ZonePpe("gate-3", 8, 1),))
    )
    record_inspection(ctx, CameraInspection("cam-2", at, None, 5, (), (ZonePpe("gate-3", 4, 1),)))
    # A camera's own ppe.no_helmet observation (one per zone and frame) is not counted a second time.
    camera_obs = Observation(
        observation_id="cam:cam-1:x", kind="ppe.no_helmet", confidence=0.9, zone="gate-3",
        source_kind=SourceKind.CAMERA, source_id="cam-1", observed_at=at,
    )  # fmt: skip
    hz.ingest_observations(ctx, [camera_obs])

    rows = {r.area: r for r in compute_kpis(ctx, at.date(), at.date())}
    north, south = rows["north"], rows["south"]
    assert (north.ppe_compliant, north.ppe_checked) == (9, 12)
    assert north.ppe_compliance_rate == pytest.approx(0.75)
    assert (south.ppe_compliant, south.ppe_checked) == (1, 2)
    pooled = (north.ppe_compliant + south.ppe_compliant) / (north.ppe_checked + south.ppe_checked)
    assert pooled == pytest.approx(10 / 14)
    only_north = compute_kpis(ctx, at.date(), at.date(), area="north")
    assert [(r.area, r.ppe_checked) for r in only_north] == [("north", 12)]
