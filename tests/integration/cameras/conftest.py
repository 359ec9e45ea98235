"""Loopback RTSP fixtures: a generated pattern video served by GStreamer's RTSP server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on the path
    sys.path.insert(0, str(ROOT))

from tests.support.rtsp_process import RtspServer, gstreamer_available  # noqa: E402
from tests.support.video import TEST_FPS, TEST_GOP, write_pattern_video  # noqa: E402


@pytest.fixture(scope="session")
def pattern_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rtsp") / "pattern.mp4"
    return write_pattern_video(path, seconds=90, fps=TEST_FPS, gop=TEST_GOP)


@pytest.fixture(scope="session")
def _gstreamer() -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")


@pytest.fixture
def rtsp_server(pattern_video: Path, _gstreamer: None) -> Iterator[RtspServer]:
    server = RtspServer(pattern_video, mounts=4).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rtsp_auth_server(pattern_video: Path, _gstreamer: None) -> Iterator[RtspServer]:
    server = RtspServer(pattern_video, mounts=1, auth="inspector:s3cret-pw").start()
    try:
        yield server
    finally:
        server.stop()
