"""Start, pause and kill the loopback RTSP server (``rtsp_server.py``) from tests and benchmarks."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # has GStreamer's gi bindings; the project venv does not


def gstreamer_available() -> bool:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


class RtspServer:
    def __init__(
        self, video: Path, *, mounts: int = 1, auth: str | None = None, port: int = 0, live: bool = False
    ) -> None:
        self.video, self.mounts, self.auth, self.port, self.live = video, mounts, auth, port, live
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 10.0) -> RtspServer:
        cmd = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--video", str(self.video), "--mounts", str(self.mounts)]
        cmd += ["--port", str(self.port)] + (["--auth", self.auth] if self.auth else [])
        cmd += ["--live"] if self.live else []
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        line = self._proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def url(self, path: str = "cam0", credentials: str | None = None) -> str:
        userinfo = f"{credentials}@" if credentials else ""
        return f"rtsp://{userinfo}127.0.0.1:{self.port}/{path}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Kill the server for sure (also when it was SIGSTOPped), and reap it."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)

    def restart(self, timeout_s: float = 10.0) -> RtspServer:
        """Stop and start again on the same port (a camera reboot, as far as clients can tell)."""
        self.stop()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.start()
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
