"""Snapshots from a real RTSP server on loopback: content, scheduling, faults, health."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable

import pytest

from cameras.config import CameraConfig, CaptureMode
from cameras.grabber import PersistentGrabber, grab_on_demand
from cameras.health import Backoff, HealthEvent, RetryScheduled, StateChange, StreamState
from cameras.scheduler import CameraScheduler
from cameras.snapshot import Snapshot
from cameras.stream import DecodedFrame, ErrorKind, StreamError
from cameras.worker import CameraWorker
from tests.support.rtsp_process import RtspServer
from tests.support.video import TEST_FPS as FPS
from tests.support.video import read_pattern

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _assert_matches_stream(frame: DecodedFrame) -> int:
    """The picture shows exactly the frame number that its timestamp says was streamed."""
    assert frame.pts_s is not None
    index = read_pattern(frame.image)
    assert index == round(frame.pts_s * FPS)
    return index


def _camera(url: str, **overrides: object) -> CameraConfig:
    fields: dict[str, object] = {
        "id": "cam-a",
        "name": "Tank farm A",
        "url": url,
        "zone": "tank-farm",
        "interval_s": 0.5,
        "open_timeout_s": 2.0,
        "read_timeout_s": 2.0,
    }
    fields.update(overrides)
    return CameraConfig.model_validate(fields)


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_persistent_grabber_returns_the_newest_streamed_frame(rtsp_server: RtspServer) -> None:
    grabber = PersistentGrabber(rtsp_server.url("cam0"), open_timeout_s=3, read_timeout_s=3)
    info = grabber.connect()
    try:
        assert (info.codec, info.width, info.height) == ("h264", 320, 240)
        seen = []
        for _ in range(4):
            started = time.monotonic()
            frame = grabber.grab()
            assert time.monotonic() - started < 1.0
            seen.append(_assert_matches_stream(frame))
            assert not frame.decode_error
            time.sleep(0.6)
        # The stream moves on in real time, and every snapshot is a newer picture.
        assert seen == sorted(seen) and len(set(seen)) == len(seen)
        assert seen[-1] - seen[0] >= 12
    finally:
        grabber.close()


def test_on_demand_grab_decodes_a_keyframe_of_the_stream(rtsp_server: RtspServer) -> None:
    frame, info = grab_on_demand(rtsp_server.url("cam1"), open_timeout_s=3, read_timeout_s=3)
    assert info.fps == pytest.approx(FPS)
    index = _assert_matches_stream(frame)
    assert index % 10 == 0  # keyframes are every 10th frame in the generated video


def test_scheduler_runs_many_cameras_and_a_dead_one_delays_none(rtsp_server: RtspServer) -> None:
    received: list[Snapshot] = []
    lock = threading.Lock()

    def sink(snapshot: Snapshot) -> None:
        with lock:
            received.append(snapshot)

    cameras = [
        _camera(rtsp_server.url("cam0"), id="p0"),
        _camera(rtsp_server.url("cam1"), id="p1", transport="tcp"),
        _camera(rtsp_server.url("cam2"), id="od", mode=CaptureMode.ON_DEMAND),
        _camera("rtsp://127.0.0.1:1/dead", id="dead"),
        _camera(rtsp_server.url("cam3"), id="off", enabled=False),
    ]
    scheduler = CameraScheduler(cameras, sink, grace_s=60, seed=1)
    scheduler.start()
    try:
        assert _wait_for(lambda: all(sum(s.camera_id == c for s in received) >= 4 for c in ("p0", "p1")), 10)
    finally:
        assert scheduler.stop(timeout_s=5)
    by_camera = {c: [s for s in received if s.camera_id == c] for c in ("p0", "p1", "od", "dead", "off")}
    assert by_camera["dead"] == [] and by_camera["off"] == []
    assert len(by_camera["od"]) >= 1
    for snapshot in by_camera["p0"] + by_camera["p1"]:
        assert snapshot.is_evidence and snapshot.frame.shape == (240, 320, 3)
        assert snapshot.pts_s is not None and read_pattern(snapshot.frame) == round(snapshot.pts_s * FPS)
        assert snapshot.latency_s < 1.0  # persistent mode: the frame is already there
    health = {row.camera_id: row for row in scheduler.health()}
    assert health["p0"].state is StreamState.STREAMING and health["p0"].frames_ok >= 4
    assert health["dead"].state is StreamState.CONNECTING and health["dead"].failures >= 1
    assert health["off"].state is StreamState.DISABLED


def test_camera_reboot_degrades_then_goes_offline_then_recovers(rtsp_server: RtspServer) -> None:
    events: list[HealthEvent] = []
    worker = CameraWorker(
        _camera(rtsp_server.url("cam0"), read_timeout_s=1.0, open_timeout_s=1.0),
        lambda snapshot: None,
        on_event=events.append,
        grace_s=1.5,
        backoff=Backoff(base_s=0.2, factor=2.0, cap_s=2.0, jitter=0.2),
        rng=random.Random(7),
    )
    worker.start()
    try:
        assert _wait_for(lambda: worker.health.state is StreamState.STREAMING, 5)
        rtsp_server.stop()
        assert _wait_for(lambda: worker.health.state is StreamState.OFFLINE, 10)
        rtsp_server.restart()
        assert _wait_for(lambda: worker.health.state is StreamState.STREAMING, 10)
    finally:
        worker.stop()
        assert worker.join(5)

    changes = [(e.previous, e.current) for e in events if isinstance(e, StateChange)]
    assert changes == [
        (StreamState.CONNECTING, StreamState.STREAMING),
        (StreamState.STREAMING, StreamState.DEGRADED),
        (StreamState.DEGRADED, StreamState.OFFLINE),
        (StreamState.OFFLINE, StreamState.STREAMING),
    ]
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    delays = [e.delay_s for e in retries]
    assert [e.attempt for e in retries] == list(range(1, len(retries) + 1))
    assert len(delays) >= 3
    # Exponential: each retry waits longer than the one before until the cap.
    assert all(later > earlier for earlier, later in itertools.pairwise(delays) if later < 1.6)
    assert max(delays) <= 2.0
    assert worker.health.snapshot().consecutive_failures == 0


def test_stalled_stream_times_out_instead_of_hanging(rtsp_server: RtspServer) -> None:
    grabber = PersistentGrabber(rtsp_server.url("cam0"), open_timeout_s=1.5, read_timeout_s=1.5)
    grabber.connect()
    try:
        grabber.grab()
        rtsp_server.pause()  # the process stops mid-stream: sockets stay open, no data flows
        started = time.monotonic()
        with pytest.raises(StreamError) as caught:
            while time.monotonic() - started < 10:
                grabber.grab()
                time.sleep(0.1)
        assert caught.value.kind is ErrorKind.TIMEOUT
        assert time.monotonic() - started < 4.0
        started = time.monotonic()
        with pytest.raises(StreamError) as caught:
            grab_on_demand(rtsp_server.url("cam1"), open_timeout_s=1.5, read_timeout_s=1.5)
        assert caught.value.kind is ErrorKind.TIMEOUT
        assert time.monotonic() - started < 4.0
    finally:
        rtsp_server.resume()
        started = time.monotonic()
        grabber.close()
        assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (lambda s: s.url("no-such-camera"), ErrorKind.NOT_FOUND),
        (lambda s: "rtsp://127.0.0.1:1/cam0", ErrorKind.REFUSED),
    ],
    ids=["wrong-path", "refused"],
)
def test_wrong_path_and_refused_connection_are_clear_errors(
    rtsp_server: RtspServer, url: Callable[[RtspServer], str], kind: ErrorKind
) -> None:
    started = time.monotonic()
    with pytest.raises(StreamError) as caught:
        grab_on_demand(url(rtsp_server), open_timeout_s=2, read_timeout_s=2)
    assert caught.value.kind is kind
    assert time.monotonic() - started < 3.0


def test_wrong_credentials_are_unauthorized_and_never_echoed(rtsp_auth_server: RtspServer) -> None:
    for credentials in (None, "inspector:wrong-password"):
        with pytest.raises(StreamError) as caught:
            grab_on_demand(rtsp_auth_server.url("cam0", credentials), open_timeout_s=2, read_timeout_s=2)
        assert caught.value.kind is ErrorKind.UNAUTHORIZED
        assert "wrong-password" not in str(caught.value)
    frame, _ = grab_on_demand(
        rtsp_auth_server.url("cam0", "inspector:s3cret-pw"), open_timeout_s=3, read_timeout_s=3
    )
    _assert_matches_stream(frame)
