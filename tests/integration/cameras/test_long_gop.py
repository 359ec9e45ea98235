"""A camera whose keyframes come every 8 s (longer than its 3 s read timeout), on a real RTSP server:
snapshots arrive once its next keyframe does, instead of "no keyframe within 3s" and a reconnect loop
(issue 13, 2: such a camera stayed offline for 151 s after its stream was back)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from cameras.grabber import PersistentGrabber, grab_on_demand
from cameras.health import Backoff
from tests.support.rtsp_process import RtspServer
from tests.support.video import read_pattern, write_pattern_video

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
FPS, GOP_S = 10, 8


@pytest.fixture(scope="module")
def long_gop_server(tmp_path_factory: pytest.TempPathFactory, _gstreamer: None) -> Iterator[RtspServer]:
    video = write_pattern_video(
        tmp_path_factory.mktemp("gop") / "long_gop.mp4", seconds=60, fps=FPS, gop=FPS * GOP_S
    )
    server = RtspServer(video, mounts=2, live=True).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_persistent_grabber_waits_for_the_next_keyframe_while_packets_flow(
    long_gop_server: RtspServer,
) -> None:
    url = long_gop_server.url("cam0")
    first = PersistentGrabber(url, open_timeout_s=3, read_timeout_s=3)
    first.connect()
    try:
        first.grab()  # returns at a keyframe: the stream's phase is now known
    finally:
        first.close()
    # Joined right after a keyframe, the next one is up to 8 s away: longer than the 3 s read timeout.
    grabber = PersistentGrabber(url, open_timeout_s=3, read_timeout_s=3)
    grabber.connect()
    try:
        started = time.monotonic()
        frame = grabber.grab()
        waited = time.monotonic() - started
        assert 3.0 < waited < GOP_S + 4  # past the read timeout, up to the next keyframe (not the 30 s limit)
        assert read_pattern(frame.image) % (FPS * GOP_S) == 0  # the picture is a keyframe of the stream
        assert not frame.decode_error
    finally:
        grabber.close()


def test_an_on_demand_grab_waits_for_the_keyframe_too(long_gop_server: RtspServer) -> None:
    frame, _ = grab_on_demand(long_gop_server.url("cam1"), open_timeout_s=3, read_timeout_s=3)
    assert read_pattern(frame.image) % (FPS * GOP_S) == 0


def test_a_camera_back_from_an_outage_is_retried_within_15_s() -> None:
    backoff = Backoff()
    rng = random.Random(7)
    assert [round(backoff.delay(n, rng), 1) <= 15.0 for n in (1, 5, 10, 50)] == [True] * 4
    assert backoff.delay(50, random.Random(0)) > 12.0  # jitter takes at most 20 % off the 15 s cap
