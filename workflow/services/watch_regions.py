"""Watched regions set through the API: per camera, a list of named polygons that replaces the camera
file's ``watch`` regions until it is cleared (an empty list watches nothing). What a region kind means and
whether a polygon fits the frame is for the caller (serving validates with the camera config and the
vision rules); here they are stored, read back in one query for all cameras, and every change audited."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Actor
from workflow.persistence.orm import WatchConfigRow
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races

Point = tuple[float, float]
_MAX_CAMERA_ID = 64  # the column's length


@dataclass(frozen=True, slots=True)
class WatchRegionSpec:
    name: str
    kind: str  # a vision.watch.RegionKind value (checked by the caller)
    points: tuple[Point, ...]  # frame pixels


@dataclass(frozen=True, slots=True)
class StoredWatch:
    camera_id: str
    regions: tuple[WatchRegionSpec, ...]
    updated_at: datetime
    updated_by: str


def _check(camera_id: str, regions: Sequence[WatchRegionSpec]) -> None:
    if not camera_id or len(camera_id) > _MAX_CAMERA_ID:
        raise InvalidInput(f"a camera id has 1 to {_MAX_CAMERA_ID} characters")
    names = [r.name for r in regions]
    if len(set(names)) != len(names):
        raise InvalidInput("watched region names must be unique per camera")
    for region in regions:
        if not region.name or not region.kind:
            raise InvalidInput("a watched region needs a name and a kind")
        if len(region.points) < 3:
            raise InvalidInput(f"watched region {region.name!r}: a polygon needs at least 3 points")
        if not all(math.isfinite(v) for point in region.points for v in point):
            raise InvalidInput(f"watched region {region.name!r}: points must be finite numbers")


def _to_json(regions: Sequence[WatchRegionSpec]) -> str:
    data = [
        {"name": r.name, "kind": r.kind, "points": [[float(x), float(y)] for x, y in r.points]}
        for r in regions
    ]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _stored(row: WatchConfigRow) -> StoredWatch:
    regions = tuple(
        WatchRegionSpec(
            str(item["name"]), str(item["kind"]), tuple((float(x), float(y)) for x, y in item["points"])
        )
        for item in json.loads(row.regions)
    )
    return StoredWatch(row.camera_id, regions, row.updated_at, row.updated_by)


def _attempt_set_watch_regions(
    ctx: WorkflowContext, camera_id: str, regions: Sequence[WatchRegionSpec], actor: Actor
) -> StoredWatch:
    """Store ``regions`` as the camera's watched regions (replacing its file's and any stored before)."""
    _check(camera_id, regions)
    now = ctx.clock.now()
    text = _to_json(regions)
    with ctx.uow() as uow:
        row = uow.session.get(WatchConfigRow, camera_id)
        if row is None:
            row = WatchConfigRow(camera_id=camera_id)
            uow.session.add(row)
        row.regions, row.updated_at, row.updated_by = text, now, actor.name
        uow.repo.append_audit(
            now,
            actor.name,
            "camera.watch.set",
            "camera",
            camera_id,
            canonical_payload({"count": len(regions), "regions": text}),
        )
        uow.commit()
        return _stored(row)


set_watch_regions = retry_races(_attempt_set_watch_regions)


def _attempt_clear_watch_regions(ctx: WorkflowContext, camera_id: str, actor: Actor) -> bool:
    """Drop the camera's stored regions (its file's apply again); False when none were stored, and then
    nothing changed and nothing is audited."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = uow.session.get(WatchConfigRow, camera_id)
        if row is None:
            return False
        uow.session.delete(row)
        uow.repo.append_audit(
            now, actor.name, "camera.watch.clear", "camera", camera_id, canonical_payload({})
        )
        uow.commit()
        return True


clear_watch_regions = retry_races(_attempt_clear_watch_regions)


def stored_watch_regions(ctx: WorkflowContext) -> dict[str, StoredWatch]:
    """Every camera's stored regions, by camera id (one query)."""
    with ctx.uow() as uow:
        return {row.camera_id: _stored(row) for row in uow.session.scalars(select(WatchConfigRow))}


def stored_watch(ctx: WorkflowContext, camera_id: str) -> StoredWatch | None:
    """One camera's stored regions (None: its camera file's apply)."""
    with ctx.uow() as uow:
        row = uow.session.get(WatchConfigRow, camera_id)
        return None if row is None else _stored(row)
