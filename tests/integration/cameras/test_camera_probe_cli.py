"""``hazardeye camera probe`` against the loopback RTSP server."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import typer
from typer.testing import CliRunner

from serving.cli import camera_cmd
from tests.support.rtsp_process import RtspServer
from tests.support.video import read_pattern

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("version")(lambda: None)  # a second command keeps "camera" a real sub-group
    camera_cmd.register(app)
    return app


def test_probe_reports_the_stream_and_saves_a_frame(rtsp_server: RtspServer, tmp_path: Path) -> None:
    out = tmp_path / "first.png"
    url = rtsp_server.url("cam0", "installer:pa55word")
    result = CliRunner().invoke(
        _app(), ["camera", "probe", url, "--out", str(out), "--json", "--timeout", "3"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert (report["codec"], report["width"], report["height"], report["fps"]) == ("h264", 320, 240, 10.0)
    assert 0 < report["connect_s"] <= report["first_frame_s"] < 3
    assert report["url"] == f"rtsp://***@127.0.0.1:{rtsp_server.port}/cam0"
    assert "pa55word" not in result.output
    frame = cv2.imread(str(out))
    assert frame is not None and frame.shape == (240, 320, 3)
    assert read_pattern(frame) % 10 == 0  # a keyframe of the generated video


def test_probe_failure_is_one_redacted_line_and_nonzero_exit(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("missing", "installer:pa55word")
    result = CliRunner().invoke(_app(), ["camera", "probe", url, "--timeout", "2"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: rtsp://***@")
    assert "not_found" in lines[0] and "pa55word" not in result.output
    refused = CliRunner().invoke(
        _app(), ["camera", "probe", "rtsp://127.0.0.1:1/x", "--json", "--timeout", "2"]
    )
    assert refused.exit_code == 2 and json.loads(refused.output)["error"] == "refused"
