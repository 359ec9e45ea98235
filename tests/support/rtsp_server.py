#!/usr/bin/python3
"""A loopback RTSP server for tests and benchmarks: GStreamer's rtsp-server serving one MP4.

Run with the *system* Python (it has ``gi``; the project venv does not):

    /usr/bin/python3 tests/support/rtsp_server.py --video clip.mp4 --mounts 50 [--port 0] [--auth u:p]

Mount paths are ``/cam0`` .. ``/cam{N-1}``. Each mount is a shared media, so all clients of one path
see the same live position, like a real camera. When the port is bound it prints ``READY <port>``
on stdout, so callers can use port 0 and read the real one back.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def _not_seekable(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.HANDLED  # an unanswered SEEKING query reads as "not seekable"
    return Gst.PadProbeReturn.OK


def _make_live(_factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
    # FFmpeg asks for "Range: npt=0-" on PLAY, which would rewind the shared file for everybody.
    # Answering "not seekable" makes the server ignore it, as a live camera does.
    payloader = media.get_element().get_by_name("pay0")
    payloader.get_static_pad("src").add_probe(Gst.PadProbeType.QUERY_UPSTREAM, _not_seekable)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mounts", type=int, default=1)
    parser.add_argument("--auth", default=None, help="user:password required for every mount")
    parser.add_argument(
        "--live",
        action="store_true",
        help="keep every mount playing with an internal client, so a newcomer joins mid-stream "
        "(like a real camera) instead of restarting the file at its first keyframe",
    )
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    launch = (
        f'( filesrc location="{args.video}" ! qtdemux ! h264parse'
        " ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )

    if args.auth:
        user, password = args.auth.split(":", 1)
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)

    mounts = server.get_mount_points()
    for index in range(args.mounts):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        if args.live:
            factory.connect("media-configure", _make_live)
        if args.auth:
            factory.add_role_from_structure(
                Gst.Structure.new_from_string(
                    "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
                )
            )
        mounts.add_factory(f"/cam{index}", factory)

    if server.attach(None) == 0:
        print("ERROR cannot bind", flush=True)
        return 1
    port = server.get_bound_port()
    keepers = []
    if args.live and not args.auth:
        for index in range(args.mounts):
            url = f"rtsp://127.0.0.1:{port}/cam{index}"
            keeper = Gst.parse_launch(f"rtspsrc location={url} protocols=tcp latency=0 ! fakesink sync=false")
            keeper.set_state(Gst.State.PLAYING)
            keepers.append(keeper)
    print(f"READY {port}", flush=True)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    for keeper in keepers:
        keeper.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
