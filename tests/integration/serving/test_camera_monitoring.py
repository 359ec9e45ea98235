"""Camera monitoring end to end: a real RTSP server streams a video of a fixture photo (workers without
helmets) → scheduled snapshots → the camera.inspect task with the real PPE model → one de-duplicated
hazard with one evidence item per snapshot; the camera's state is visible in GET /api/v1/cameras."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import yaml

from serving.bus.messages import Alert
from serving.pipelines.camera_board import CameraBoard
from serving.pipelines.camera_inspect import Inspection
from serving.pipelines.camera_monitor import build_monitor, inspect_task
from serving.settings import CameraSettings, MonitorSettings, PrivacySettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.support.rtsp_process import RtspServer, gstreamer_available
from tests.support.video import write_photo_video
from tests.support.watch_scene import write_watch_video
from workflow.domain.evidence import EvidenceKind
from workflow.domain.roles import Role
from workflow.services.queries import HazardFilter, hazard_detail, list_hazards

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004951.jpg"


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.fixture
def rtsp(tmp_path: Path) -> Iterator[RtspServer]:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    server = RtspServer(write_photo_video(FIXTURE, tmp_path / "workers.mp4"), mounts=1, live=True).start()
    try:
        yield server
    finally:
        server.stop()


def _camera_settings(tmp_path: Path, rtsp: RtspServer) -> CameraSettings:
    cameras = tmp_path / "cameras.yaml"
    camera = {"id": "cam-a", "name": "Tank farm A", "url": rtsp.url("cam0"), "zone": "tank-farm"}
    cameras.write_text(yaml.safe_dump({"cameras": [{**camera, "interval_s": 1.0, "read_timeout_s": 4.0}]}))
    return CameraSettings(config_file=cameras)


@pytest.fixture
def api(tmp_path: Path, rtsp: RtspServer) -> Iterator[ApiHarness]:
    with api_harness(embedded_settings(tmp_path, cameras=_camera_settings(tmp_path, rtsp))) as harness:
        yield harness


def test_with_face_blurring_no_frame_of_the_stream_reaches_a_viewer_unblurred(
    tmp_path: Path, rtsp: RtspServer
) -> None:
    settings = embedded_settings(
        tmp_path, cameras=_camera_settings(tmp_path, rtsp), privacy=PrivacySettings(blur_faces=True)
    )
    with api_harness(settings) as api:
        board = CameraBoard()
        monitor = build_monitor(api.container, board)
        assert monitor is not None
        api.client.app.state.camera_board = board  # type: ignore[attr-defined]
        ctx = api.container.workflow
        shown: list[tuple[int, str | None, bytes]] = []

        def latest(role: Role) -> tuple[int, str | None, bytes]:
            r = api.client.get("/api/v1/cameras/cam-a/snapshot", headers=api.auth(role))
            return r.status_code, r.headers.get("x-hazardeye-faces"), r.content

        def evidence() -> list[str]:
            page = list_hazards(ctx, HazardFilter())
            return [e.object_keys[0] for h in page.items for e in hazard_detail(ctx, h.id).evidence]

        monitor.start()
        try:
            deadline = time.monotonic() + 90
            while len(evidence()) < 2 and time.monotonic() < deadline:
                shown.append(latest(Role.INSPECTOR))  # polled while frames arrive and get inspected
                time.sleep(0.3)
            admin = latest(Role.ADMIN)
        finally:
            assert monitor.stop(timeout_s=15)
        frames = evidence()
        assert len(frames) >= 2, "no evidence in time"
        # Every answer the inspector got was a blurred frame (or "none yet"), never the sealed original.
        assert shown and all(status == 404 or faces == "blurred" for status, faces, _ in shown), shown[:3]
        assert any(status == 200 for status, _, _ in shown)
        assert admin[0] == 200 and admin[1] == "original"
        for key in frames:  # the evidence frames: originals kept, blurred for the inspector
            original = api.client.get(f"/api/v1/objects/{key}", headers=api.auth(Role.ADMIN))
            blurred = api.client.get(f"/api/v1/objects/{key}", headers=api.auth(Role.INSPECTOR))
            assert original.headers["x-hazardeye-faces"] == "original"
            assert blurred.headers["x-hazardeye-faces"] == "blurred"
            assert (
                hashlib.sha256(original.content).hexdigest()
                == key
                != hashlib.sha256(blurred.content).hexdigest()
            )


def test_snapshots_become_one_hazard_with_evidence_per_snapshot(api: ApiHarness) -> None:
    alerts: list[Alert] = []
    api.container.bus.subscribe_alerts(alerts.append)
    board = CameraBoard()
    monitor = build_monitor(api.container, board)
    assert monitor is not None
    api.client.app.state.camera_board = board  # type: ignore[attr-defined]
    ctx = api.container.workflow
    task = inspect_task(api.container)
    assert task is not None
    inspections: list[Inspection] = []
    task.results.subscribe(inspections.append)

    def evidence_count() -> int:
        page = list_hazards(ctx, HazardFilter())
        return max((h.evidence_count for h in page.items), default=0)

    monitor.start()
    try:
        assert _wait_for(lambda: evidence_count() >= 4, timeout_s=90), "no de-duplicated evidence in time"
        camera = api.client.get("/api/v1/cameras/cam-a", headers=api.auth(Role.INSPECTOR)).json()
    finally:
        assert monitor.stop(timeout_s=15)

    page = list_hazards(ctx, HazardFilter())
    assert [(h.kind, h.zone, h.source_id) for h in page.items] == [("ppe.no_helmet", "tank-farm", "cam-a")]
    detail = hazard_detail(ctx, page.items[0].id)
    assert all(e.kind is EvidenceKind.SNAPSHOT for e in detail.evidence)
    frames = [e.object_keys[0] for e in detail.evidence]
    assert len(set(frames)) == len(frames) >= 4  # each evidence item is a different snapshot
    assert len({e.at for e in detail.evidence}) == len(frames)
    # Temporal confirmation (2 of the last 3 snapshots): the first snapshot that showed the bare heads
    # opened nothing; the hazard's first evidence is the second one.
    sightings = sorted(i.at for i in inspections if "ppe.no_helmet" in {f.kind for f in i.findings})
    assert len(sightings) >= 4 and min(e.at for e in detail.evidence) == sightings[1]

    assert camera["state"] == "streaming" and camera["last_error"] is None
    assert camera["last_frame_at"] is not None and camera["snapshot_key"] is not None
    assert "ppe.no_helmet" in {f["kind"] for f in camera["findings_last"]}
    assert (camera["people_last"] or 0) >= 1
    snapshot = api.client.get("/api/v1/cameras/cam-a/snapshot", headers=api.auth(Role.INSPECTOR))
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"  # a JPEG

    kinds = [a.kind for a in alerts]
    assert kinds.count("hazard.created") == 1  # one hazard, announced once
    assert "camera.state" in kinds  # connecting → streaming


def test_a_camera_that_goes_dark_is_a_stored_alert_and_so_is_its_return(
    api: ApiHarness, rtsp: RtspServer
) -> None:
    monitor = build_monitor(api.container, CameraBoard())
    assert monitor is not None
    heard: list[Alert] = []
    api.container.bus.subscribe_alerts(heard.append)

    def stored() -> list[dict[str, object]]:
        response = api.client.get("/api/v1/alerts", headers=api.auth(Role.INSPECTOR))
        assert response.status_code == 200
        alerts: list[dict[str, object]] = response.json()
        return [a for a in alerts if str(a["kind"]).startswith("camera.")]

    monitor.start()
    try:
        assert _wait_for(lambda: any(a.kind == "camera.state" for a in heard), timeout_s=30)  # streaming
        assert stored() == [], [a["message"] for a in stored()]  # starting up is not news
        rtsp.stop()
        assert _wait_for(lambda: any(a["kind"] == "camera.offline" for a in stored()), timeout_s=60)
        rtsp.restart()
        assert _wait_for(lambda: any(a["kind"] == "camera.back" for a in stored()), timeout_s=90)
    finally:
        assert monitor.stop(timeout_s=15)
    alerts = stored()
    offline = next(a for a in alerts if a["kind"] == "camera.offline")
    assert (
        offline["camera_id"] == "cam-a"
        and offline["zone"] == "tank-farm"
        and offline["acknowledged"] is False
    )
    assert "cam-a" in str(offline["message"]) and "secret" not in str(offline["message"])
    assert {"camera.offline", "camera.back"} <= {a.kind for a in heard}  # the live feed / MQTT hear them too
    ack = api.client.post(f"/api/v1/alerts/{offline['id']}/ack", headers=api.auth(Role.INSPECTOR))
    assert ack.status_code == 200 and ack.json()["acknowledged"] is True


def _write_black_video(path: Path, seconds: int = 60, fps: int = 10) -> Path:
    """A camera with its lens covered: the stream runs, every frame is (noisy) black."""
    rng = np.random.default_rng(5)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast", "bf": "0", "g": str(fps)}
        for _ in range(seconds * fps):
            frame = rng.integers(0, 6, (240, 320, 3), dtype=np.uint8)  # sensor noise in the dark
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_camera_whose_picture_stays_black_is_a_stored_alert(tmp_path: Path) -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    server = RtspServer(_write_black_video(tmp_path / "covered.mp4"), mounts=1, live=True).start()
    try:
        settings = embedded_settings(
            tmp_path,
            cameras=_camera_settings(tmp_path, server),
            monitor=MonitorSettings(picture_alert_after_s=3.0),
        )
        with api_harness(settings) as api:
            monitor = build_monitor(api.container, CameraBoard())
            assert monitor is not None
            heard: list[Alert] = []
            api.container.bus.subscribe_alerts(heard.append)

            def stored() -> list[dict[str, object]]:
                alerts: list[dict[str, object]] = api.client.get(
                    "/api/v1/alerts", headers=api.auth(Role.INSPECTOR)
                ).json()
                return [a for a in alerts if str(a["kind"]).startswith("camera.")]

            started = time.monotonic()
            monitor.start()
            try:
                assert _wait_for(lambda: any(a["kind"] == "camera.black" for a in stored()), timeout_s=45)
                waited = time.monotonic() - started
            finally:
                assert monitor.stop(timeout_s=15)
            final = stored()
        black = [a for a in final if a["kind"] == "camera.black"]
        assert len(black) == 1  # once, however many black frames followed
        assert black[0]["camera_id"] == "cam-a" and black[0]["zone"] == "tank-farm"
        assert "black" in str(black[0]["message"])
        assert waited >= 3.0  # debounced: not on the first black frame
        assert "camera.black" in {a.kind for a in heard}
        assert not any(a["kind"] == "camera.offline" for a in final)  # the stream itself is up
    finally:
        server.stop()


def test_a_puddle_under_a_watched_flange_becomes_a_suspected_leak_hazard(tmp_path: Path) -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    video = write_watch_video(tmp_path / "flange.mp4", seconds=90, leak_from_s=15, fps=5)
    server = RtspServer(video, mounts=1, live=True).start()
    try:
        config = tmp_path / "cameras.yaml"
        camera = {
            "id": "cam-f", "name": "Pump house", "url": server.url("cam0"), "zone": "pump-house",
            "interval_s": 1.0, "read_timeout_s": 4.0,
            "watch": [
                {"name": "P-7 seal", "kind": "pump_seal", "points": [[200, 160], [320, 160], [320, 260]]},
                {"name": "valve V-2", "kind": "valve", "points": [[20, 20], [120, 20], [120, 100]]},
            ],
        }  # fmt: skip
        config.write_text(yaml.safe_dump({"cameras": [camera]}))
        settings = embedded_settings(
            tmp_path, cameras=CameraSettings(config_file=config), monitor=MonitorSettings(watch_persist_s=8.0)
        )
        with api_harness(settings) as api:
            monitor = build_monitor(api.container, CameraBoard())
            assert monitor is not None
            ctx = api.container.workflow
            monitor.start()
            try:
                found = _wait_for(
                    lambda: any(h.kind == "leak.suspected" for h in list_hazards(ctx, HazardFilter()).items),
                    timeout_s=80,
                )
            finally:
                assert monitor.stop(timeout_s=15)
            # (The PPE model also boxes "heads" in this synthetic texture: not what this test is about.)
            hazards = [h for h in list_hazards(ctx, HazardFilter()).items if h.kind == "leak.suspected"]
            assert found and len(hazards) == 1, [h.kind for h in list_hazards(ctx, HazardFilter()).items]
            hazard = hazards[0]
            assert (hazard.zone, hazard.equipment_id, hazard.source_id) == ("pump-house", "P-7 seal", "cam-f")
            assert (hazard.likelihood, hazard.severity) == (3, 4)  # a pump seal: graded by the region's kind
            assert re.fullmatch(
                r"suspected leak at P-7 seal \(pump seal\): a leak-like change held for 8 s"
                r" over \d+% of the region",
                hazard.description,
            ), hazard.description  # the camera's persist_s is 8 s here
            detail = hazard_detail(ctx, hazard.id)
            _snapshot_key, side_key = detail.evidence[0].object_keys
            side = cv2.imdecode(
                np.frombuffer(api.container.objects.get(side_key), np.uint8), cv2.IMREAD_COLOR
            )
            # Before | now: each the seal's 120 × 100 box with a ring half its size around it (frame
            # 140..380 × 110..310) drawn at 320 × 267, a 4 px gap between; the puddle's centre, frame
            # (260, 235), is (160, 167) in each panel.
            assert side.shape == (267, 644, 3)
            left, right = side[:, :320].astype(float), side[:, 324:].astype(float)
            assert right[160:175, 150:170].mean() < 0.8 * left[160:175, 150:170].mean()  # darker now
            red = (side[..., 2] > 200) & (side[..., 1] < 60) & (side[..., 0] < 60)  # JPEG: near red
            assert not red[:, :320].any() and red[:, 324:].sum() > 100  # the blob is outlined on now
    finally:
        server.stop()


def test_regions_put_through_the_api_while_the_camera_streams_find_the_puddle(tmp_path: Path) -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    video = write_watch_video(tmp_path / "pump.mp4", seconds=80, leak_from_s=30, fps=5)
    server = RtspServer(video, mounts=1, live=True).start()
    try:
        config = tmp_path / "cameras.yaml"
        # No ``watch``: the camera watches nothing until regions are set through the API.
        camera = {
            "id": "cam-p", "name": "Pump house", "url": server.url("cam0"), "zone": "pump-house",
            "interval_s": 1.0, "read_timeout_s": 4.0,
        }  # fmt: skip
        config.write_text(yaml.safe_dump({"cameras": [camera]}))
        settings = embedded_settings(
            tmp_path, cameras=CameraSettings(config_file=config), monitor=MonitorSettings(watch_persist_s=8.0)
        )
        with api_harness(settings) as api:
            board = CameraBoard()
            monitor = build_monitor(api.container, board)
            assert monitor is not None
            api.client.app.state.camera_board = board  # type: ignore[attr-defined]
            ctx = api.container.workflow

            def leaks() -> list[str | None]:
                return [
                    h.equipment_id
                    for h in list_hazards(ctx, HazardFilter()).items
                    if h.kind == "leak.suspected"
                ]

            def framed() -> bool:
                row = board.get("cam-p")
                return row is not None and row.frame_size is not None

            monitor.start()
            try:
                assert _wait_for(framed, timeout_s=30)
                url, engineer = "/api/v1/cameras/cam-p/watch", api.auth(Role.SAFETY_ENGINEER)
                before = api.client.get(url, headers=api.auth(Role.INSPECTOR)).json()
                assert (before["source"], before["regions"], before["frame"]) == (
                    "file",
                    [],
                    {"width": 480, "height": 360},
                )
                # The puddle comes at 30 s of the video, at (260, 235): around it, a pump seal. The region
                # is picked up within 10 s and learns its reference from the 5 frames after that.
                seal = {"name": "P-7 seal", "kind": "pump_seal",
                        "points": [[200, 180], [320, 180], [320, 280], [200, 280]]}  # fmt: skip
                put = api.client.put(url, json={"regions": [seal]}, headers=engineer)
                assert put.status_code == 200, put.text
                found = _wait_for(lambda: leaks() != [], timeout_s=90)
            finally:
                assert monitor.stop(timeout_s=15)
            assert found and leaks() == ["P-7 seal"], [
                h.kind for h in list_hazards(ctx, HazardFilter()).items
            ]
            hazard = next(h for h in list_hazards(ctx, HazardFilter()).items if h.kind == "leak.suspected")
            assert (hazard.zone, hazard.source_id, hazard.severity) == ("pump-house", "cam-p", 4)
    finally:
        server.stop()
