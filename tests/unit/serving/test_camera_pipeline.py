"""The camera inspection task, zone counting, the permit presence check and the sweeps, with the real
PPE model, a real SQLite database and the local object store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cameras.config import ZonePolygon
from serving.bus.messages import Alert
from serving.pipelines.camera_inspect import INSPECT_TASK, Inspection, InspectPayload, InspectTask
from serving.pipelines.camera_monitor import inspect_task
from serving.pipelines.presence import inside, observation_id, zone_of_box
from serving.pipelines.sweeps import sweep_once
from serving.settings import VisionSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from workflow.domain.clock import FakeClock
from workflow.domain.evidence import EvidenceKind
from workflow.domain.permits import PermitRequest, PermitType
from workflow.domain.roles import Actor, Role
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.services.context import WorkflowContext
from workflow.services.frames import expired_frames
from workflow.services.permits import approve_permit, request_permit
from workflow.services.queries import HazardFilter, hazard_detail, list_hazards
from workflow.services.sensors import define_sensor, ingest_reading
from workflow.services.users import authenticate
from workflow.services.zones import Zone, upsert_zone

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"
WHOLE = ZonePolygon(name="hot-bay", points=((0, 0), (500, 0), (500, 375), (0, 375)))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path)) as harness:
        yield harness


def _actor(api: ApiHarness, role: Role) -> Actor:
    actor = authenticate(api.container.workflow, api.keys[role])
    assert actor is not None
    return actor


def _task(api: ApiHarness) -> InspectTask:
    task = inspect_task(api.container)
    assert task is not None  # registered by register_handlers
    return task


def _payload(api: ApiHarness, at: datetime, polygons: tuple[ZonePolygon, ...] = ()) -> InspectPayload:
    key = api.container.objects.put(FIXTURE.read_bytes(), content_type="image/jpeg").key
    return InspectPayload(
        camera_id="cam-a", zone="tank-farm", polygons=polygons, snapshot_key=key, captured_at=at, sequence=1
    )


def test_polygon_membership_and_ids() -> None:
    square = ZonePolygon(name="sq", points=((10, 10), (20, 10), (20, 20), (10, 20)))
    assert inside((15, 15), square) and not inside((25, 15), square) and not inside((15, 5), square)
    assert zone_of_box((12, 12, 18, 18), (square,), "cam-zone") == "sq"
    assert zone_of_box((0, 0, 30, 4), (square,), "cam-zone") == "cam-zone"
    assert observation_id("cam", "a", "t") == "cam:a:t"
    long = observation_id("cam", "x" * 200)
    assert len(long) <= 128 and long == observation_id("cam", "x" * 200) != observation_id("cam", "y" * 200)


def test_snapshots_of_one_violation_become_one_hazard_with_evidence_per_frame(api: ApiHarness) -> None:
    task = _task(api)
    inspections: list[Inspection] = []
    task.results.subscribe(inspections.append)
    alerts: list[Alert] = []
    api.container.bus.subscribe_alerts(alerts.append)
    start = datetime.now(UTC) - timedelta(seconds=30)
    first = _payload(api, start)
    task(first)
    task(first)  # a retried task: nothing new, and not a second sighting either
    # Temporal confirmation (default 2 of the last 3 snapshots): one frame alone is no hazard yet.
    assert list_hazards(api.container.workflow, HazardFilter()).total == 0
    for n in range(1, 3):
        task(_payload(api, start + timedelta(seconds=5 * n)))

    page = list_hazards(api.container.workflow, HazardFilter())
    assert [(h.kind, h.zone, h.source_id) for h in page.items] == [("ppe.no_helmet", "tank-farm", "cam-a")]
    detail = hazard_detail(api.container.workflow, page.items[0].id)
    # frames 2 and 3 are confirmed (2 of 3 seen), one evidence item each, de-duplicated into one hazard
    assert [e.kind for e in detail.evidence] == [EvidenceKind.SNAPSHOT] * 2
    for evidence in detail.evidence:
        snapshot, crop = evidence.object_keys
        assert snapshot == first.snapshot_key and api.container.objects.exists(crop)
    # Only the new hazard is news on the bus, not each appended frame.
    assert [a.kind for a in alerts] == ["hazard.created"]
    assert alerts[0].zone == "tank-farm" and alerts[0].level >= 1
    assert len(inspections) == 4
    assert inspections[-1].people >= 3
    assert {f.kind for f in inspections[-1].findings} == {"ppe.no_helmet"}
    assert api.container.objects.exists(inspections[-1].annotated_key or "")
    # Annotated frames go into the retention ledger; the evidence (snapshot + crops) never expires.
    later = datetime.now(UTC) + timedelta(days=1)
    expiring = set(expired_frames(api.container.workflow, later))
    assert {i.annotated_key for i in inspections} <= expiring
    assert not expiring & {key for e in detail.evidence for key in e.object_keys}


def test_registered_task_runs_through_the_inline_runner(api: ApiHarness) -> None:
    for n, key in enumerate(("k1", "k2")):  # two snapshots: the second confirms the first
        payload = _payload(api, datetime.now(UTC) - timedelta(seconds=10 - n))
        task_id = api.container.tasks.submit(INSPECT_TASK, payload, key=key)
        api.container.tasks.wait(task_id, timeout=60)  # type: ignore[attr-defined]
    assert list_hazards(api.container.workflow, HazardFilter()).total == 1


def test_people_in_a_permit_zone_without_a_permit_open_a_permit_hazard(api: ApiHarness) -> None:
    engineer = _actor(api, Role.SAFETY_ENGINEER)
    upsert_zone(
        api.container.workflow,
        Zone("hot-bay", "Hot bay", "north", frozenset({PermitType.HOT_WORK})),
        engineer,
    )
    for seconds in (7, 2):  # two snapshots: the helmet finding is confirmed by the second
        _task(api)(_payload(api, datetime.now(UTC) - timedelta(seconds=seconds), (WHOLE,)))
    kinds = sorted(h.kind for h in list_hazards(api.container.workflow, HazardFilter()).items)
    assert kinds == ["permit.no_valid_permit", "ppe.no_helmet"]
    assert {h.zone for h in list_hazards(api.container.workflow, HazardFilter()).items} == {"hot-bay"}


@pytest.mark.parametrize(
    ("min_people", "max_people", "kind", "message"),
    [
        (20, None, "permit.understaffed", "requires 20 people"),  # the fixture shows 3 or more people
        (2, 2, "permit.overstaffed", "allows 2 people"),
    ],
)
def test_a_permit_with_the_wrong_number_of_people_seen_raises_an_alert(
    api: ApiHarness, min_people: int, max_people: int | None, kind: str, message: str
) -> None:
    ctx = api.container.workflow
    engineer, admin = _actor(api, Role.SAFETY_ENGINEER), _actor(api, Role.ADMIN)
    upsert_zone(ctx, Zone("hot-bay", "Hot bay", "north", frozenset({PermitType.HOT_WORK})), engineer)
    now = datetime.now(UTC)
    request = PermitRequest(
        PermitType.HOT_WORK,
        "hot-bay",
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        min_people,
        max_people=max_people,
    )
    permit = request_permit(ctx, request, _actor(api, Role.INSPECTOR))
    approve_permit(ctx, permit.permit_id, engineer)
    approve_permit(ctx, permit.permit_id, admin)
    alerts: list[Alert] = []
    api.container.bus.subscribe_alerts(alerts.append)

    task = _task(api)
    task(_payload(api, now - timedelta(seconds=3), (WHOLE,)))
    task(_payload(api, now - timedelta(seconds=2), (WHOLE,)))  # within the cooldown: no second alert
    staffing = [a for a in alerts if a.kind.startswith("permit.")]
    assert [a.kind for a in staffing] == [kind]
    assert staffing[0].zone == "hot-bay" and message in staffing[0].message
    kinds = {h.kind for h in list_hazards(ctx, HazardFilter()).items}
    assert "permit.no_valid_permit" not in kinds


def test_sweeps_publish_expiries_and_stale_sensors(api: ApiHarness) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    ctx = WorkflowContext(api.container.sessions, clock=clock)
    engineer = _actor(api, Role.SAFETY_ENGINEER)
    upsert_zone(ctx, Zone("hot-bay", "Hot bay", "north", frozenset({PermitType.HOT_WORK})), engineer)
    request = PermitRequest(PermitType.HOT_WORK, "hot-bay", start, start + timedelta(hours=1))
    permit = request_permit(ctx, request, _actor(api, Role.INSPECTOR))
    sensor = SensorDefinition(
        "cl2-1", "hot-bay", "ppm", tiers_with_hysteresis((1.0,), 0.1), stale_after=timedelta(minutes=5)
    )
    define_sensor(ctx, sensor, engineer)
    ingest_reading(ctx, "cl2-1", 0.2, start)
    alerts: list[Alert] = []
    api.container.bus.subscribe_alerts(alerts.append)

    assert sweep_once(ctx, api.container.bus).expired == 0 and alerts == []
    clock.advance(timedelta(hours=2))
    result = sweep_once(ctx, api.container.bus)
    assert (result.expired, result.stale) == (1, 1)
    assert sorted((a.kind, a.sensor_id) for a in alerts) == [
        ("permit.expired", None),
        ("sensor.stale", "cl2-1"),
    ]
    assert str(permit.permit_id) in next(a.message for a in alerts if a.kind == "permit.expired")
    again = sweep_once(ctx, api.container.bus)  # idempotent
    assert (again.expired, again.stale, len(alerts)) == (0, 0, 2)


@pytest.mark.parametrize(("opt_in", "expected"), [(False, ["ppe@2"]), (True, ["ppe@2", "leak@1"])])
def test_camera_frames_get_the_leak_model_only_when_opted_in(
    tmp_path: Path, opt_in: bool, expected: list[str]
) -> None:
    """The synthetic-data leak model sees stains on clean floors: camera frames run the PPE model alone
    unless ``HAZARDEYE_VISION__LEAK_ON_CAMERAS`` (watched regions look for leaks instead); photos, unless
    ``HAZARDEYE_VISION__LEAK_ON_PHOTOS``."""
    settings = embedded_settings(
        tmp_path, vision=VisionSettings(leak_on_cameras=opt_in, leak_on_photos=opt_in)
    )
    with api_harness(settings) as harness:
        ran: list[str] = []
        harness.container.camera_analyzer.add_observer(lambda model, _s: ran.append(model))
        _task(harness)(_payload(harness, datetime.now(UTC) - timedelta(seconds=5)))
        assert ran == expected
        assert harness.container.analyzer.model_names == (("ppe", "leak") if opt_in else ("ppe",))
