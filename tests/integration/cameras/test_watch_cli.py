"""``hazardeye watch`` over a recorded video: one JSON line per event, at the persistence boundary; bad
input exits 2 with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from serving.cli import watch_cmd
from tests.support.rtsp_process import RtspServer
from tests.support.watch_scene import write_watch_video

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("version")(lambda: None)  # a second command keeps "watch" a named sub-command
    watch_cmd.register(app)
    return app


def _watch(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["watch", *args])
    return result.exit_code, result.output


def test_a_puddle_in_a_recorded_video_is_one_suspected_leak(tmp_path: Path) -> None:
    video = write_watch_video(tmp_path / "flange.mp4", seconds=90, leak_from_s=30)
    code, output = _watch(
        str(video), "--region", "flange-3:200,160,320,260", "--region", "valve-1:valve:20,20,120,100",
        "--region", "seal:pump_seal:200,160,320,160,320,260,200,260",  # the flange's box as a polygon
        "--interval-s", "1", "--persist-s", "20", "--no-people",
    )  # fmt: skip
    assert code == 0, output
    events = [json.loads(line) for line in output.splitlines() if line.strip()]
    # Frames every second; the puddle from 30 s; 20 s of persistence: raised at 50 s, only for its region.
    assert [(e["region"], e["kind"], e["at_s"]) for e in events] == [
        ("flange-3", "leak.suspected", 50.0),
        ("seal", "leak.suspected", 50.0),
    ]
    assert 0.04 <= events[0]["score"] <= 1.0


def test_clean_footage_prints_nothing(tmp_path: Path) -> None:
    video = write_watch_video(tmp_path / "clean.mp4", seconds=60, leak_from_s=None)
    options = ["--region", "f:200,160,320,260", "--interval-s", "1", "--persist-s", "10", "--no-people"]
    code, output = _watch(str(video), *options)
    assert (code, output.strip()) == (0, "")
    code, output = _watch(str(video), *options[:-1])  # with the PPE model looking for people
    assert (code, output.strip()) == (0, "")


def test_bad_input_exits_2_with_the_reason(tmp_path: Path) -> None:
    video = write_watch_video(tmp_path / "v.mp4", seconds=4, leak_from_s=None)
    code, output = _watch(str(video), "--region", "f:400,300,520,380", "--no-people")
    assert code == 2 and "outside the 480×360 frame" in output
    code, output = _watch(str(video), "--region", "f:10,10", "--no-people")
    assert code == 2 and "4 numbers (a box) or 3 or more x,y pairs (a polygon), got 2" in output
    code, output = _watch(str(video), "--region", "f:10,10,60,60,90", "--no-people")
    assert code == 2 and "got 5" in output
    code, output = _watch(str(video), "--region", "f:10,10,60,10,110,10,110,40", "--no-people")
    assert code == 0, output  # a polygon with three collinear points and a fourth: a triangle, fine
    code, output = _watch(str(video), "--region", "f:10,10,60,20,110,30", "--no-people")
    assert code == 2 and "'f': its polygon encloses 0 px²; at least 64" in output
    code, output = _watch(str(video), "--region", "f:tank:10,10,60,60", "--no-people")
    assert code == 2 and "unknown region kind 'tank'" in output
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 500)
    code, output = _watch(str(broken), "--region", "f:10,10,60,60", "--no-people")
    assert code == 2 and "cannot read" in output
    code, output = _watch(str(tmp_path / "missing.mp4"), "--region", "f:10,10,60,60", "--no-people")
    assert code == 2 and "cannot read" in output


def test_a_camera_stream_that_ends_is_reported_lost_after_its_last_frame(
    tmp_path: Path, _gstreamer: None
) -> None:
    # A real RTSP server streaming 12 s of the clean view: nothing leak-like, then the stream stops.
    with RtspServer(write_watch_video(tmp_path / "cam.mp4", seconds=12, leak_from_s=None)) as server:
        code, output = _watch(
            server.url(), "--region", "flange-3:200,160,320,260", "--interval-s", "1", "--no-people"
        )
    assert code == 0, output
    events = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert [(e["region"], e["kind"], e["error"]) for e in events] == [
        ("*", "camera.stream_lost", "the stream ended")
    ]
    assert 10.0 <= events[0]["at_s"] <= 12.0  # the last frame read, one per second of a 12 s stream
