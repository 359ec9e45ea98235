"""Workflow data the tests seed by hand: PPE people in two areas, and recorded uploads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflow.domain.observations import PPE_OK_KIND, Observation, SourceKind
from workflow.domain.roles import SYSTEM
from workflow.services.context import WorkflowContext
from workflow.services.hazards import ingest_observations
from workflow.services.photos import NewPhoto
from workflow.services.zones import Zone, upsert_zone


def seed_ppe_people(ctx: WorkflowContext) -> None:
    """Photo observations: gate-3 (area north) 9 people with a helmet and 1 without, dock-1 (area south)
    1 and 1. Each bare head opens a hazard (its own equipment): 2 opened; pooled PPE 10 of 12 = 83.3 %."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    for zone, area, ok, bare in (("gate-3", "north", 9, 1), ("dock-1", "south", 1, 1)):
        upsert_zone(ctx, Zone(zone, zone, area, frozenset()), SYSTEM)
        kinds = [PPE_OK_KIND] * ok + ["ppe.no_helmet"] * bare
        ingest_observations(ctx, [
            Observation(observation_id=f"photo:{zone}:{i}", kind=kind, confidence=0.9, zone=zone,
                        source_kind=SourceKind.PHOTO, source_id=f"p-{zone}", observed_at=at,
                        equipment_id=f"eq-{zone}")
            for i, kind in enumerate(kinds)
        ])  # fmt: skip


def new_photo(n: int) -> NewPhoto:
    """A recorded upload whose ids all derive from ``n``."""
    return NewPhoto(
        photo_id=f"{n:064x}", upload_sha256=f"{n:064x}", original_key=f"{n:064x}", media_type="image/jpeg",
        width=640, height=480, taken_at=None, gps_lat=None, gps_lon=None, zone="z1", area=None,
        equipment_id=None, description=None, uploaded_by="insp",
    )  # fmt: skip
