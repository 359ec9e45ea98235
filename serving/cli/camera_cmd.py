"""``hazardeye camera probe URL``: the first thing an installer runs when adding a camera."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cameras.config import Transport
from cameras.probe import ProbeResult, probe
from cameras.redact import redact_url, scrub
from cameras.stream import StreamError

camera_app = typer.Typer(help="Cameras: check a stream before adding it.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(camera_app, name="camera")


def _report(result: ProbeResult, out: Path | None) -> dict[str, object]:
    return {
        "url": result.url,
        "ok": True,
        "codec": result.codec,
        "width": result.width,
        "height": result.height,
        "fps": round(result.fps, 3) if result.fps else None,
        "connect_s": round(result.connect_s, 3),
        "first_frame_s": round(result.first_frame_s, 3),
        "quality_flags": sorted(flag.value for flag in result.flags),
        "frame": str(out) if out else None,
    }


@camera_app.command("probe")
def probe_cmd(
    url: Annotated[str, typer.Argument(help="Stream URL, e.g. rtsp://user:pass@10.0.0.5:554/stream1")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the first decoded frame (.jpg/.png)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Open/read timeout, seconds")] = 10.0,
    transport: Annotated[Transport, typer.Option("--transport", help="RTSP transport")] = Transport.TCP,
) -> None:
    """Connect, report codec, resolution, fps and time to first frame; optionally save that frame."""
    try:
        result = probe(url, transport=transport, timeout_s=timeout)
    except StreamError as exc:
        _fail(url, f"{exc.kind.value}", str(exc), as_json)
    except Exception as exc:  # anything unforeseen still ends as one clean, redacted line
        _fail(url, "other", scrub(" ".join(str(exc).split()) or type(exc).__name__, url), as_json)
    if out is not None:
        import cv2

        out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out), result.frame):
            _fail(url, "output", f"cannot write {out} (use a .jpg or .png name)", as_json)
    report = _report(result, out)
    if as_json:
        typer.echo(json.dumps(report))
        return
    fps = f"{result.fps:.2f} fps" if result.fps else "fps unknown"
    typer.echo(f"{result.url}: {result.codec} {result.width}x{result.height} {fps}")
    typer.echo(f"connected in {result.connect_s:.3f}s, first frame after {result.first_frame_s:.3f}s")
    if result.flags:
        typer.echo(f"warning: first frame is {', '.join(sorted(f.value for f in result.flags))}")
    if out is not None:
        typer.echo(f"frame saved to {out}")


def _fail(url: str, kind: str, message: str, as_json: bool) -> None:
    safe = redact_url(url)
    if as_json:
        typer.echo(json.dumps({"url": safe, "ok": False, "error": kind, "message": message}))
    else:
        typer.echo(f"error: {safe}: {message}", err=True)
    raise typer.Exit(code=2)
