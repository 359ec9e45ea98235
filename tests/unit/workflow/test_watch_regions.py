"""Watched regions set through the API, stored per camera: replace, read back for all cameras in one call,
clear, and every change in the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from workflow.domain.clock import FakeClock
from workflow.domain.errors import InvalidInput
from workflow.domain.roles import Actor, Role
from workflow.persistence.orm import AuditRow
from workflow.services.audit import verify_audit_chain
from workflow.services.context import WorkflowContext
from workflow.services.watch_regions import (
    StoredWatch,
    WatchRegionSpec,
    clear_watch_regions,
    set_watch_regions,
    stored_watch,
    stored_watch_regions,
)

ENGINEER = Actor(7, "eng-li", Role.SAFETY_ENGINEER)
SEAL = WatchRegionSpec("P-7 seal", "pump_seal", ((420.0, 610.0), (560.0, 610.0), (560.0, 720.0)))
FLOOR = WatchRegionSpec("floor", "floor", ((0.0, 700.0), (300.0, 700.0), (300.0, 720.0), (0.0, 720.0)))


def _audit(ctx: WorkflowContext) -> list[tuple[str, str, str, str, dict[str, object]]]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
        return [(r.actor, r.action, r.entity, r.entity_id, json.loads(r.payload)) for r in rows]


def test_set_replaces_and_reads_back_for_every_camera(sqlite_ctx: WorkflowContext, clock: FakeClock) -> None:
    assert stored_watch_regions(sqlite_ctx) == {}
    first = set_watch_regions(sqlite_ctx, "gate-1", [SEAL, FLOOR], ENGINEER)
    assert first == StoredWatch("gate-1", (SEAL, FLOOR), datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "eng-li")
    clock.advance(timedelta(minutes=5))
    set_watch_regions(sqlite_ctx, "pump-2", [], ENGINEER)  # watch nothing on this one
    replaced = set_watch_regions(sqlite_ctx, "gate-1", [FLOOR], Actor(8, "eng-wang", Role.SAFETY_ENGINEER))

    assert replaced.regions == (FLOOR,)
    assert stored_watch_regions(sqlite_ctx) == {
        "gate-1": StoredWatch("gate-1", (FLOOR,), datetime(2026, 3, 2, 8, 5, tzinfo=UTC), "eng-wang"),
        "pump-2": StoredWatch("pump-2", (), datetime(2026, 3, 2, 8, 5, tzinfo=UTC), "eng-li"),
    }
    assert stored_watch(sqlite_ctx, "pump-2") == StoredWatch(
        "pump-2", (), datetime(2026, 3, 2, 8, 5, tzinfo=UTC), "eng-li"
    )
    assert stored_watch(sqlite_ctx, "gate-9") is None


def test_every_set_and_clear_is_audited(sqlite_ctx: WorkflowContext) -> None:
    set_watch_regions(sqlite_ctx, "gate-1", [SEAL], ENGINEER)
    assert clear_watch_regions(sqlite_ctx, "gate-1", ENGINEER) is True
    assert clear_watch_regions(sqlite_ctx, "gate-1", ENGINEER) is False  # nothing stored: nothing changed
    assert stored_watch(sqlite_ctx, "gate-1") is None

    regions = '[{"name":"P-7 seal","kind":"pump_seal","points":[[420.0,610.0],[560.0,610.0],[560.0,720.0]]}]'
    assert _audit(sqlite_ctx) == [
        ("eng-li", "camera.watch.set", "camera", "gate-1", {"count": 1, "regions": regions}),
        ("eng-li", "camera.watch.clear", "camera", "gate-1", {}),
    ]
    assert verify_audit_chain(sqlite_ctx).ok


def test_names_and_points_survive_unicode_and_markup(sqlite_ctx: WorkflowContext) -> None:
    odd = WatchRegionSpec(
        "<img src=x onerror=alert(1)> 法兰", "flange", ((1.5, 2.25), (30.0, 2.0), (9.0, 40.0))
    )
    set_watch_regions(sqlite_ctx, "gate-1", [odd], ENGINEER)
    assert stored_watch_regions(sqlite_ctx)["gate-1"].regions == (odd,)


@pytest.mark.parametrize(
    ("camera_id", "regions", "message"),
    [
        ("", [SEAL], "a camera id has 1 to 64 characters"),
        ("c" * 65, [SEAL], "a camera id has 1 to 64 characters"),
        ("gate-1", [SEAL, SEAL], "watched region names must be unique per camera"),
        ("gate-1", [WatchRegionSpec("", "flange", SEAL.points)], "a watched region needs a name and a kind"),
        (
            "gate-1",
            [WatchRegionSpec("two", "flange", ((0.0, 0.0), (9.0, 9.0)))],
            "watched region 'two': a polygon needs at least 3 points",
        ),
        (
            "gate-1",
            [WatchRegionSpec("nan", "flange", ((0.0, 0.0), (float("nan"), 9.0), (9.0, 0.0)))],
            "watched region 'nan': points must be finite numbers",
        ),
    ],
)
def test_refusals_store_and_audit_nothing(
    sqlite_ctx: WorkflowContext, camera_id: str, regions: list[WatchRegionSpec], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        set_watch_regions(sqlite_ctx, camera_id, regions, ENGINEER)
    assert str(refused.value) == message
    assert stored_watch_regions(sqlite_ctx) == {}
    assert _audit(sqlite_ctx) == []
